//===- test/unit/ir/TextFormatTest.cpp - Printer and parser ---------------===//
//
// print → parse → print must be the identity, and parse errors must point at
// the offending line and column with a stable code.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace gma;
using namespace gma::ir;

namespace {

const char *kMlp = R"(graph @mlp(%x: f32[1,2]) -> (f32[1,1]) attributes {arena = 4} {
  %0 = const dense<[1, -1, 2, 1]> : f32[2,2]
  %1 = const dense<[0.5, -1]> : f32[2]
  %2 = affine %x, %0, %1 {buffer = [0, 0], transposed = 0} : f32[1,2] loc("fc1")
  %3 = relu %2 {buffer = [0, 0]} : f32[1,2] loc("relu1")
  %4 = const dense<[1, -1]> : f32[2,1]
  %5 = matmul %3, %4 : f32[1,1]
  %6 = reshape %5 : f32[1,1,1]
  %7 = reshape %6 : f32[1,1]
  return %7 name("y")
}
)";

std::string roundTrip(const std::string &text, const PrintOptions &opts = {}) {
  auto g = parseGraph(text);
  EXPECT_TRUE(static_cast<bool>(g)) << (g ? "" : g.error().str());
  return g ? printGraph(*g, opts) : "";
}

TEST(TextFormat, PrintParsePrintIsIdentity) {
  std::string once = roundTrip(kMlp);
  EXPECT_EQ(once, kMlp);
  EXPECT_EQ(roundTrip(once), once);
}

TEST(TextFormat, WeightsByReferenceRoundTrip) {
  PrintOptions opts;
  opts.inlineWeightLimit = 2; // the 2x2 weights print as @refs
  opts.printWeights = true;
  std::string once = roundTrip(kMlp, opts);
  EXPECT_NE(once.find("weights {"), std::string::npos);
  EXPECT_NE(once.find("const @"), std::string::npos);
  EXPECT_EQ(roundTrip(once, opts), once);
}

TEST(TextFormat, SpecialFloatsAndQuotedNames) {
  const char *text = R"(graph @"odd name"(%"input:0": f32[3]) -> (f32[3]) {
  %0 = const dense<[inf, -inf, 1e-30]> : f32[3]
  %1 = add %"input:0", %0 : f32[3]
  return %1
}
)";
  std::string once = roundTrip(text);
  EXPECT_EQ(once, text);
}

TEST(TextFormat, NumericInputNamesDoNotCollideWithValueNumbers) {
  // mnist_fc's input tensor is called "0".
  Graph g;
  ValueId x = g.addInput("0", TensorType{{2}});
  ValueId r = g.addOp(OpKind::Relu, {x}, TensorType{{2}});
  g.outputs.push_back(g.addOp(OpKind::Neg, {r}, TensorType{{2}}));
  std::string once = printGraph(g);
  EXPECT_NE(once.find("%\"0\": f32[2]"), std::string::npos) << once;
  EXPECT_NE(once.find("%0 = relu %\"0\""), std::string::npos) << once;
  auto parsed = parseGraph(once);
  ASSERT_TRUE(static_cast<bool>(parsed)) << parsed.error().str();
  EXPECT_EQ(printGraph(*parsed), once);
  EXPECT_EQ(parsed->ops[0].operands[0], parsed->inputs[0]);
}

TEST(TextFormat, FloatsRoundTripExactly) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{{3}});
  ValueId c = g.addConst("c", TensorType{{3}}, {0.1f, 1.0f / 3.0f, -7.0e-39f});
  g.outputs.push_back(g.addOp(OpKind::Add, {x, c}, TensorType{{3}}));
  auto parsed = parseGraph(printGraph(g));
  ASSERT_TRUE(static_cast<bool>(parsed)) << parsed.error().str();
  const Weight *w = parsed->constant(parsed->ops[0].result);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->at(0), 0.1f);
  EXPECT_EQ(w->at(1), 1.0f / 3.0f);
  EXPECT_EQ(w->at(2), -7.0e-39f);
}

struct BadCase {
  const char *text;
  ErrorCode code;
  int line, column;
};

TEST(TextFormat, ErrorsCarryCodeLineAndColumn) {
  const BadCase cases[] = {
      // Unknown op name.
      {"graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = frobnicate %x : f32[2]\n  return %0\n}\n",
       ErrorCode::IrUnknownOp, 2, 8},
      // Use of an undefined value.
      {"graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = relu %y : f32[2]\n  return %0\n}\n",
       ErrorCode::IrUndefinedValue, 2, 13},
      // Declared type disagrees with the op's shape rule.
      {"graph @g(%x: f32[2]) -> (f32[3]) {\n  %0 = relu %x : f32[3]\n  return %0\n}\n",
       ErrorCode::IrVerify, 2, 3},
      // Syntax: missing ':' before the type.
      {"graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = relu %x f32[2]\n  return %0\n}\n",
       ErrorCode::IrSyntax, 2, 16},
      // A weight reference with no weights section.
      {"graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = const @w : f32[2]\n  %1 = add %x, %0 : f32[2]\n"
       "  return %1\n}\n",
       ErrorCode::IrUndefinedValue, 2, 14},
      // Redefinition.
      {"graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = relu %x : f32[2]\n  %0 = relu %x : f32[2]\n"
       "  return %0\n}\n",
       ErrorCode::IrRedefinition, 3, 3},
  };
  for (const BadCase &c : cases) {
    auto g = parseGraph(c.text, "t.gir");
    ASSERT_FALSE(static_cast<bool>(g)) << c.text;
    EXPECT_EQ(g.error().code(), c.code) << g.error().str();
    EXPECT_EQ(g.error().location().line, c.line) << g.error().str();
    EXPECT_EQ(g.error().location().column, c.column) << g.error().str();
    EXPECT_EQ(g.error().location().file, "t.gir");
  }
}

TEST(TextFormat, SplitInputFile) {
  auto chunks = splitInputFile("a\n// -----\nb\nc\n// -----  \nd");
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0], "a\n");
  EXPECT_EQ(chunks[1], "b\nc\n");
  EXPECT_EQ(chunks[2], "d\n");
}

} // namespace

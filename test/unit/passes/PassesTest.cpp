//===- test/unit/passes/PassesTest.cpp - Each pass on small graphs --------===//
//
// One or two focused cases per pass with the expected numbers worked out in
// comments, plus the pass manager's registry, pipeline parsing and its
// "pass broke the IR" report. The lit tests in test/lit/passes show the same
// rewrites as IR text; these check what text cannot (weights in the store,
// ulp_error arithmetic at the 64 limit, verifier failures).
//
//===----------------------------------------------------------------------===//
#include "TestGraphs.h"

#include "passes/EliminateDeadCode.h"
#include "passes/FoldConstants.h"
#include "passes/FoldNormalization.h"
#include "passes/FuseAffine.h"

#include <sstream>

using namespace gma;
using namespace gma::ir;
using namespace gma::testing;

namespace {

/// The data of the constant that operand `k` of the op defining `v` reads.
std::vector<float> operandData(const Graph &g, ValueId v, int k) {
  const Weight *w = g.constant(g.defOp(v)->operands[k]);
  EXPECT_NE(w, nullptr);
  return w ? std::vector<float>(w->data(), w->data() + w->numel()) : std::vector<float>{};
}

TEST(PassManager, TableDrivesRegistry) {
  EXPECT_NE(passes::findPass("fuse-affine"), nullptr);
  EXPECT_EQ(passes::findPass("no-such-pass"), nullptr);
  auto p = passes::parsePipeline(passes::kDefaultPipeline);
  ASSERT_TRUE(static_cast<bool>(p));
  EXPECT_EQ(std::string(p->back()->name), "plan-buffers");
}

TEST(PassManager, UnknownPassIsAUserError) {
  auto p = passes::parsePipeline("dce,fuse-afine");
  ASSERT_FALSE(static_cast<bool>(p));
  EXPECT_EQ(p.error().code(), ErrorCode::PassUnknown);
  EXPECT_NE(p.error().message().find("'fuse-afine'"), std::string::npos);
}

bool breakGraph(Graph &g) {
  g.outputs.push_back(static_cast<ValueId>(g.values.size()) + 5); // undefined
  return true;
}

TEST(PassManager, ReportsThePassThatBrokeTheIr) {
  Graph g = parse("graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = relu %x : f32[2]\n  return %0\n}\n");
  passes::PassInfo bad{"break-it", "breaks the graph", &breakGraph};
  passes::PipelineOptions opts;
  opts.verifyEach = true;
  Status s = passes::runPipeline(g, {passes::findPass("dce"), &bad}, opts);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_EQ(s.error().code(), ErrorCode::IrVerify);
  EXPECT_NE(s.error().message().find("pass 'break-it' broke the IR"), std::string::npos);
}

TEST(PassManager, PrintsOnlyChangedPassesAndTimes) {
  Graph g = parse("graph @g(%x: f32[2]) -> (f32[2]) {\n  %0 = identity %x : f32[2]\n"
                  "  %1 = relu %0 : f32[2]\n  return %1\n}\n");
  std::ostringstream log;
  passes::PipelineOptions opts;
  opts.printAfterAll = opts.timePasses = true;
  opts.log = &log;
  ASSERT_TRUE(
      static_cast<bool>(passes::runPipeline(g, *passes::parsePipeline("dce,elide-copies"), opts)));
  EXPECT_EQ(log.str().find("IR Dump After dce"), std::string::npos);
  EXPECT_NE(log.str().find("IR Dump After elide-copies"), std::string::npos);
  EXPECT_NE(log.str().find("100.0%  Total"), std::string::npos);
}

TEST(EliminateDeadCode, DropsUnusedOpsAndConstants) {
  Graph g = parse(R"(graph @g(%x: f32[2]) -> (f32[2]) {
  %0 = const dense<[1, 2]> : f32[2]
  %1 = add %x, %0 : f32[2]
  %2 = relu %x : f32[2]
  return %2
}
)");
  EXPECT_TRUE(passes::eliminateDeadCode(g));
  EXPECT_EQ(g.ops.size(), 1u);
  EXPECT_FALSE(passes::eliminateDeadCode(g));
}

TEST(FoldConstants, EvaluatesInDoubleAndRoundsOnce) {
  // (1/3 as f32) * 3 = 1.00000000298... in double, which rounds to 1 in f32;
  // transpose then matmul fold in the same sweep.
  Graph g = parse(R"(graph @g(%x: f32[2]) -> (f32[2]) {
  %0 = const dense<[0.333333343, 2]> : f32[2]
  %1 = const dense<[3, 0.5]> : f32[2]
  %2 = mul %0, %1 : f32[2]
  %3 = const dense<[1, 2, 3, 4]> : f32[2,2]
  %4 = transpose %3 {perm = [1, 0]} : f32[2,2]
  %5 = matmul %2, %4 : f32[2]
  %6 = add %x, %5 : f32[2]
  return %6
}
)");
  EXPECT_TRUE(passes::foldConstants(g));
  // mul -> [1, 1]; transpose -> [[1, 3], [2, 4]]; [1, 1]·that = [3, 7].
  EXPECT_EQ(operandData(g, g.outputs[0], 1), (std::vector<float>{3, 7}));
  EXPECT_EQ(countOps(g, OpKind::Const), 1);
}

TEST(FoldNormalization, SubDivFoldsWithExactUlpError) {
  // (x - m)/s · W + b with m = [1, 2], s = [2, 4], W = [[1, 2], [3, 4]], b = [1, 1]:
  //   W' = diag(1/s)·W = [[0.5, 1], [0.75, 1]]
  //   b' = b - (m/s)·W = [1 - (0.5·1 + 0.5·3), 1 - (0.5·2 + 0.5·4)] = [-1, -2]
  // Every step is exact in binary, so ulp_error stays 0.
  Graph g = parse(R"(graph @g(%x: f32[1,2]) -> (f32[1,2]) {
  %0 = const dense<[1, 2]> : f32[2]
  %1 = sub %x, %0 : f32[1,2]
  %2 = const dense<[2, 4]> : f32[2]
  %3 = div %1, %2 : f32[1,2]
  %4 = const dense<[1, 2, 3, 4]> : f32[2,2]
  %5 = const dense<[1, 1]> : f32[2]
  %6 = affine %3, %4, %5 : f32[1,2]
  return %6
}
)");
  EXPECT_TRUE(passes::foldNormalization(g));
  ValueId y = g.outputs[0];
  EXPECT_EQ(g.defOp(y)->operands[0], g.inputs[0]);
  EXPECT_EQ(operandData(g, y, 1), (std::vector<float>{0.5, 1, 0.75, 1}));
  EXPECT_EQ(operandData(g, y, 2), (std::vector<float>{-1, -2}));
  EXPECT_FALSE(g.defOp(y)->hasAttr("ulp_error"));
}

TEST(FoldNormalization, InexactScaleIsChargedInUlpError) {
  // Dividing by 3 rounds: W' = fl(1/3), ulp_error 1 covers it (|W' - 1/3| <=
  // 2^-24·|W'|, and the double quotient's own error is far below an ulp).
  Graph g = parse(R"(graph @g(%x: f32[1,1]) -> (f32[1,1]) {
  %0 = const dense<[3]> : f32[1]
  %1 = div %x, %0 : f32[1,1]
  %2 = const dense<[1]> : f32[1,1]
  %3 = matmul %1, %2 : f32[1,1]
  return %3
}
)");
  EXPECT_TRUE(passes::foldNormalization(g));
  const Op *op = g.defOp(g.outputs[0]);
  EXPECT_EQ(op->kind, OpKind::Affine);
  EXPECT_EQ(operandData(g, g.outputs[0], 1), (std::vector<float>{1.0f / 3.0f}));
  EXPECT_EQ(op->intAttr("ulp_error"), 1);
}

TEST(FoldNormalization, ExactlyCancellingBiasFolds) {
  // b' = 1 - 1·1 = 0. A zero bias has no room for error (the ulp_error bound
  // is relative to |b'|), but this fold is exact, so it is allowed with E = 0.
  Graph g = parse(R"(graph @g(%x: f32[1,1]) -> (f32[1,1]) {
  %0 = const dense<[1]> : f32[1]
  %1 = sub %x, %0 : f32[1,1]
  %2 = const dense<[1]> : f32[1,1]
  %3 = const dense<[1]> : f32[1]
  %4 = affine %1, %2, %3 : f32[1,1]
  return %4
}
)");
  EXPECT_TRUE(passes::foldNormalization(g));
  EXPECT_EQ(operandData(g, g.outputs[0], 2), (std::vector<float>{0}));
  EXPECT_FALSE(g.defOp(g.outputs[0])->hasAttr("ulp_error"));
}

TEST(FuseAffine, MergeNeedingMoreThan64UlpsIsSkipped) {
  // W1·W2 = 1·1 + 1·(-1 + 2^-20): the exact product is 2^-20 while P = |W1|·|W2|
  // is about 2. A previous ulp_error of 1 on each layer allows an error of
  // about 2·2^-24·2 = 2^-22 in the merged entry, i.e. R·2 = 2^21·2 ulps of
  // 2^-20: far above 64, so the layers must stay apart.
  Graph g = parse(R"(graph @g(%x: f32[1,1]) -> (f32[1,1]) {
  %0 = const dense<[1, 1]> : f32[1,2]
  %1 = const dense<[0, 0]> : f32[2]
  %2 = affine %x, %0, %1 {ulp_error = 1} : f32[1,2]
  %3 = const dense<[1, -0.999999046]> : f32[2,1]
  %4 = const dense<[0]> : f32[1]
  %5 = affine %2, %3, %4 {ulp_error = 1} : f32[1,1]
  return %5
}
)");
  passes::fuseAffine(g);
  EXPECT_EQ(countOps(g, OpKind::Affine), 2);
}

TEST(FuseAffine, ExactMergeKeepsUlpErrorZero) {
  // [[1, 2]]·[[3], [4]] = [[11]], bias [1, 1]·[[3], [4]] + 5 = [12]: all exact.
  Graph g = parse(R"(graph @g(%x: f32[1,1]) -> (f32[1,1]) {
  %0 = const dense<[1, 2]> : f32[1,2]
  %1 = const dense<[1, 1]> : f32[2]
  %2 = affine %x, %0, %1 : f32[1,2]
  %3 = const dense<[3, 4]> : f32[2,1]
  %4 = matmul %2, %3 : f32[1,1]
  %5 = const dense<[5]> : f32[1]
  %6 = add %4, %5 : f32[1,1]
  return %6
}
)");
  EXPECT_TRUE(passes::fuseAffine(g));
  ASSERT_EQ(countOps(g, OpKind::Affine), 1);
  ValueId y = g.outputs[0];
  EXPECT_EQ(operandData(g, y, 1), (std::vector<float>{11}));
  EXPECT_EQ(operandData(g, y, 2), (std::vector<float>{12}));
  EXPECT_FALSE(g.defOp(y)->hasAttr("ulp_error"));
}

TEST(FuseAffine, InexactMergeChargesOneUlp) {
  // W = 0.1·0.1 + 0.2·0.2 rounds in f32: ulp_error 1 (P / |W'| = 1: no
  // cancellation, and the inputs were exact).
  Graph g = parse(R"(graph @g(%x: f32[1,1]) -> (f32[1,1]) {
  %0 = const dense<[0.1, 0.2]> : f32[1,2]
  %1 = const dense<[0, 0]> : f32[2]
  %2 = affine %x, %0, %1 : f32[1,2]
  %3 = const dense<[0.1, 0.2]> : f32[2,1]
  %4 = matmul %2, %3 : f32[1,1]
  return %4
}
)");
  EXPECT_TRUE(passes::fuseAffine(g));
  ASSERT_EQ(countOps(g, OpKind::Affine), 1);
  EXPECT_EQ(g.defOp(g.outputs[0])->intAttr("ulp_error"), 1);
}

} // namespace

namespace gma::testing {
namespace {

// Graph edits cost O(uses), not O(schedule): replacing each of a 20,000-op
// identity chain's results by its operand visits each operand slot a bounded
// number of times (a scan of the schedule per edit would visit ~2·10^8), and
// the rewritten graph is right: every consumer, a doubly used operand and the
// named graph output all end on the chain's input.
TEST(Rewriter, ReplaceAllUsesIsLinearInUses) {
  ir::Graph g;
  ir::TensorType t{{4}};
  ir::ValueId x = g.addInput("x", t);
  ir::ValueId v = x;
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    v = g.addOp(ir::OpKind::Identity, {v}, t);
  ir::ValueId sum = g.addOp(ir::OpKind::Add, {v, v}, t);
  ir::ValueId last = g.addOp(ir::OpKind::Identity, {sum}, t);
  g.values[last].name = "y";
  g.outputs = {last};
  passes::Rewriter rw(g);
  for (int i = 0; i < n; ++i) {
    const ir::Op &op = g.ops[static_cast<size_t>(i)];
    rw.replaceAllUsesWith(op.result, op.operands[0]);
  }
  rw.replaceAllUsesWith(last, sum);
  EXPECT_LE(rw.operandVisits(), 3 * static_cast<int64_t>(n));
  EXPECT_TRUE(rw.finish());
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].kind, ir::OpKind::Add);
  EXPECT_EQ(g.ops[0].operands, (std::vector<ir::ValueId>{x, x}));
  EXPECT_EQ(g.outputs, (std::vector<ir::ValueId>{sum}));
  EXPECT_EQ(g.values[sum].name, "y");
  EXPECT_TRUE(static_cast<bool>(ir::verifyGraph(g)));
}

// Use lists stay right across setOperands: the old operand's entry goes
// stale (skipped), the new one is found.
TEST(Rewriter, UseListsFollowSetOperands) {
  ir::Graph g;
  ir::TensorType t{{2}};
  ir::ValueId a = g.addInput("a", t), b = g.addInput("b", t);
  ir::ValueId r = g.addOp(ir::OpKind::Relu, {a}, t);
  ir::ValueId s = g.addOp(ir::OpKind::Neg, {r}, t);
  g.outputs = {s};
  passes::Rewriter rw(g);
  rw.setOperands(1, {a});  // neg now reads a; relu is dead
  rw.replaceAllUsesWith(a, b);
  EXPECT_EQ(g.ops[1].operands, (std::vector<ir::ValueId>{b}));
  EXPECT_TRUE(rw.finish());
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].kind, ir::OpKind::Neg);
  EXPECT_EQ(g.ops[0].operands, (std::vector<ir::ValueId>{b}));
}

} // namespace
} // namespace gma::testing

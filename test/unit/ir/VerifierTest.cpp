//===- test/unit/ir/VerifierTest.cpp - IR invariants ----------------------===//
#include "ir/Verifier.h"

#include <gtest/gtest.h>

using namespace gma;
using namespace gma::ir;

namespace {

Graph smallGraph() {
  Graph g;
  ValueId x = g.addInput("x", TensorType{{1, 2}});
  ValueId w = g.addConst("w", TensorType{{2, 3}}, {1, 2, 3, 4, 5, 6});
  ValueId b = g.addConst("b", TensorType{{3}}, {0, 0, 0});
  ValueId y = g.addOp(OpKind::Affine, {x, w, b}, TensorType{{1, 3}});
  g.outputs.push_back(g.addOp(OpKind::Relu, {y}, TensorType{{1, 3}}));
  return g;
}

TEST(Verifier, AcceptsWellFormedGraph) {
  Graph g = smallGraph();
  Status s = verifyGraph(g);
  EXPECT_TRUE(static_cast<bool>(s)) << s.error().str();
}

TEST(Verifier, RejectsUseBeforeDef) {
  Graph g = smallGraph();
  std::swap(g.ops[2], g.ops[3]); // relu before the affine it reads
  g.updateDefs();
  Status s = verifyGraph(g);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_EQ(s.error().code(), ErrorCode::IrVerify);
  EXPECT_NE(s.error().message().find("before it is defined"), std::string::npos);
}

TEST(Verifier, RejectsWrongResultType) {
  Graph g = smallGraph();
  g.values[g.ops[3].result].type = TensorType{{1, 4}};
  Status s = verifyGraph(g);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_NE(s.error().message().find("declared"), std::string::npos);
}

TEST(Verifier, RejectsNonConstantAffineWeight) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{{2}});
  ValueId w = g.addInput("w", TensorType{{2, 2}});
  ValueId b = g.addConst("b", TensorType{{2}}, {0, 0});
  g.outputs.push_back(g.addOp(OpKind::Affine, {x, w, b}, TensorType{{2}}));
  Status s = verifyGraph(g);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_NE(s.error().message().find("constants"), std::string::npos);
}

TEST(Verifier, RejectsStaleDefsAndErasedOps) {
  Graph g = smallGraph();
  g.eraseOp(3);
  EXPECT_FALSE(static_cast<bool>(verifyGraph(g)));
  g.compact(); // the output (relu) is gone now
  EXPECT_FALSE(static_cast<bool>(verifyGraph(g)));
}

} // namespace

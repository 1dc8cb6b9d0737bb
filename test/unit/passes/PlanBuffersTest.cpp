//===- test/unit/passes/PlanBuffersTest.cpp - The buffer plan -------------===//
//
// checkBufferPlan on random MLP-like graphs after the default pipeline (and
// after plan-buffers alone, with every view and in-place op still there), a
// hand-worked plan, and the checker rejecting plans that overlap.
//
//===----------------------------------------------------------------------===//
#include "TestGraphs.h"

#include "passes/PlanBuffers.h"

using namespace gma;
using namespace gma::ir;
using namespace gma::testing;

namespace {

std::vector<int64_t> bufferOf(const Graph &g, size_t opIndex) {
  return g.ops[opIndex].attrs.at("buffer").ints;
}

TEST(PlanBuffers, RandomGraphsGetValidPlans) {
  for (int seed = 0; seed < 300; ++seed) {
    for (const char *pipeline : {"plan-buffers", passes::kDefaultPipeline}) {
      std::mt19937 rng(seed);
      Graph g = randomMlp(rng);
      runPasses(g, pipeline);
      Status s = passes::checkBufferPlan(g);
      ASSERT_TRUE(static_cast<bool>(s))
          << "seed " << seed << ", " << pipeline << ": " << s.error().str();
    }
  }
}

TEST(PlanBuffers, InPlaceChainAndOutputRegion) {
  Graph g = parse(R"(graph @p(%x: f32[1,2]) -> (f32[1,3]) {
  %0 = const dense<[1, 2, 3, 4, 5, 6, 7, 8]> : f32[2,4]
  %1 = const dense<[0, 0, 0, 0]> : f32[4]
  %2 = affine %x, %0, %1 : f32[1,4]
  %3 = relu %2 : f32[1,4]
  %4 = const dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]> : f32[4,3]
  %5 = matmul %3, %4 : f32[1,3]
  %6 = relu %5 : f32[1,3]
  return %6
}
)");
  runPasses(g, "plan-buffers");
  ASSERT_TRUE(static_cast<bool>(passes::checkBufferPlan(g)));
  //   | value | op     | live   | placement                                  |
  //   | %x    | input  | -1..2  | region 1                                   |
  //   | %2    | affine | 2..3   | arena 0 (4 floats)                         |
  //   | %3    | relu   | 3..5   | in place on %2, which dies at 3: arena 0   |
  //   | %5    | matmul | 5..6   | dies at the in-place relu that is the      |
  //   |       |        |        | output, so it is written to region 2 too   |
  //   | %6    | relu   | 6..end | the output: region 2                       |
  // The arena holds only the 4 floats of %2/%3.
  EXPECT_EQ(bufferOf(g, 2), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(bufferOf(g, 3), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(bufferOf(g, 5), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(bufferOf(g, 6), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(g.attrs.at("arena").asInt(), 4);
}

TEST(PlanBuffers, LiveValuesDoNotShare) {
  // %1 and %2 are both live at %3 (a residual add): different offsets.
  Graph g = parse(R"(graph @p(%x: f32[4]) -> (f32[4]) {
  %0 = const dense<[1, 2, 3, 4]> : f32[4]
  %1 = mul %x, %0 : f32[4]
  %2 = relu %1 : f32[4]
  %3 = sigmoid %1 : f32[4]
  %4 = add %2, %3 : f32[4]
  %5 = neg %4 : f32[4]
  return %5
}
)");
  runPasses(g, "plan-buffers");
  ASSERT_TRUE(static_cast<bool>(passes::checkBufferPlan(g)));
  //   | value | op      | live   | placement                                 |
  //   | %1    | mul     | 1..3   | arena 0 (its operand is the input)        |
  //   | %2    | relu    | 2..4   | %1 is still read by %3: not in place      |
  //   | %3    | sigmoid | 3..4   | in place on %1, which dies at 3: arena 0  |
  //   | %4    | add     | 4..5   | in place on %2, which dies at 4           |
  //   | %5    | neg     | 5..end | the output: region 2; %4 dies at it, so   |
  //   |       |         |        | %4 and then %2 are written there too      |
  // %1 and %2 are live together, so they never share: the arena is 4 floats.
  EXPECT_EQ(bufferOf(g, 1), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(bufferOf(g, 3), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(bufferOf(g, 2), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(bufferOf(g, 4), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(bufferOf(g, 5), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(g.attrs.at("arena").asInt(), 4);
}

TEST(PlanBuffers, ViewsShareAndMultipleInputsUseTheArena) {
  Graph g = parse(R"(graph @p(%a: f32[1,4], %b: f32[4]) -> (f32[4], f32[1,4]) {
  %0 = reshape %a : f32[4]
  %1 = add %0, %b : f32[4]
  %2 = reshape %1 : f32[1,4]
  return %1, %2
}
)");
  runPasses(g, "plan-buffers");
  Status s = passes::checkBufferPlan(g);
  ASSERT_TRUE(static_cast<bool>(s)) << s.error().str();
  EXPECT_EQ(g.attrs.at("input_offsets").ints.size(), 2u);
  EXPECT_EQ(bufferOf(g, 2), bufferOf(g, 1)); // a view shares its operand's buffer
  EXPECT_EQ(bufferOf(g, 0)[0], 0);           // inputs in the arena
}

TEST(PlanBuffers, CheckerRejectsOverlap) {
  Graph g = parse(R"(graph @p(%x: f32[4]) -> (f32[4]) attributes {arena = 8} {
  %0 = relu %x {buffer = [0, 0]} : f32[4]
  %1 = sigmoid %x {buffer = [0, 2]} : f32[4]
  %2 = add %0, %1 {buffer = [2, 0]} : f32[4]
  return %2
}
)");
  Status s = passes::checkBufferPlan(g);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_NE(s.error().message().find("overlap"), std::string::npos);
}

TEST(PlanBuffers, CheckerRejectsViewWithOwnBuffer) {
  Graph g = parse(R"(graph @p(%x: f32[4]) -> (f32[2,2]) attributes {arena = 8} {
  %0 = relu %x {buffer = [0, 0]} : f32[4]
  %1 = reshape %0 {buffer = [0, 4]} : f32[2,2]
  return %1
}
)");
  EXPECT_FALSE(static_cast<bool>(passes::checkBufferPlan(g)));
}

TEST(PlanBuffers, IsIdempotent) {
  std::mt19937 rng(7);
  Graph g = randomMlp(rng);
  runPasses(g, passes::kDefaultPipeline);
  EXPECT_FALSE(passes::planBuffers(g));
}

} // namespace

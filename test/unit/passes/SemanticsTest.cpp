//===- test/unit/passes/SemanticsTest.cpp - Passes preserve semantics -----===//
//
// Randomized checks against the IR interpreter (ir/Interpreter.h):
// - every rewriting pass, and the default pipeline, leaves the concrete output
//   of random MLP-like graphs unchanged up to f32 rounding (the folds compute
//   in double and round once, so the difference is a few f32 ulps of the
//   output scale);
// - IBP on the optimised graph, which uses the folds' ulp_error, still
//   contains the original graph's exact (real-arithmetic) outputs for inputs
//   sampled from the box, corners and point boxes included. (Not its f32
//   outputs: docs/soundness.md explains why bounds do not cover f32
//   accumulation error, and a point box exposes it.)
//
//===----------------------------------------------------------------------===//
#include "TestGraphs.h"

#include "ir/Interpreter.h"

#include <algorithm>
#include <cmath>

using namespace gma;
using namespace gma::ir;
using namespace gma::testing;

namespace {

constexpr int kGraphs = 300;
constexpr int64_t kBatch = 8;

std::vector<float> outputOf(const Graph &g, const std::vector<float> &input, int64_t batch) {
  auto out = evaluate(g, {input}, batch);
  EXPECT_TRUE(static_cast<bool>(out)) << (out ? "" : out.error().str());
  return out ? (*out)[0] : std::vector<float>{};
}

void expectClose(const std::vector<float> &want, const std::vector<float> &got,
                 const std::string &what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  float scale = 1;
  for (float v : want)
    scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(want[i], got[i], 1e-5f * scale) << what << ", element " << i;
}

TEST(PassSemantics, EachPassPreservesConcreteOutputs) {
  const char *pipelines[] = {
      "dce",         "fold-constants",       "elide-copies", "fold-normalization",
      "fuse-affine", "pretranspose-weights", "plan-buffers", passes::kDefaultPipeline};
  for (int seed = 0; seed < kGraphs; ++seed) {
    std::mt19937 rng(seed);
    Graph original = randomMlp(rng);
    ASSERT_TRUE(static_cast<bool>(verifyGraph(original))) << "seed " << seed;
    int64_t inSize = original.type(original.inputs[0]).numel();
    std::vector<float> input = randomData(rng, inSize * kBatch, 2.0f);
    std::vector<float> want = outputOf(original, input, kBatch);
    for (const char *pipeline : pipelines) {
      Graph g = original;
      runPasses(g, pipeline);
      expectClose(want, outputOf(g, input, kBatch),
                  std::string("seed ") + std::to_string(seed) + ", " + pipeline);
    }
  }
}

TEST(PassSemantics, DefaultPipelineFusesRandomMlps) {
  // Sanity check that the random graphs exercise the folds: the default
  // pipeline leaves no matmul and no identity behind, merges some layers, and
  // folds the normalisation of almost every graph that has one. (It may not
  // fold when fuse-affine first merged the first two layers, which costs an
  // ulp, and the folded bias then cancels so much that ulp_error would pass
  // 64: a legitimate refusal. In real models a ReLU follows the first layer.)
  int affineBefore = 0, affineAfter = 0, normalised = 0, folded = 0;
  for (int seed = 0; seed < kGraphs; ++seed) {
    std::mt19937 rng(seed);
    Graph g = randomMlp(rng);
    affineBefore += countOps(g, OpKind::MatMul) + countOps(g, OpKind::Affine);
    bool hasNorm = countOps(g, OpKind::Sub) > 0;
    runPasses(g, passes::kDefaultPipeline);
    EXPECT_EQ(countOps(g, OpKind::MatMul), 0) << "seed " << seed;
    EXPECT_EQ(countOps(g, OpKind::Identity), 0) << "seed " << seed;
    affineAfter += countOps(g, OpKind::Affine);
    normalised += hasNorm;
    folded += hasNorm && countOps(g, OpKind::Sub) + countOps(g, OpKind::Div) == 0;
  }
  EXPECT_LT(affineAfter, affineBefore);
  EXPECT_GE(folded, normalised * 95 / 100) << folded << " of " << normalised;
}

TEST(PassSemantics, IbpAfterDefaultPipelineContainsOriginalOutputs) {
  for (int seed = 0; seed < kGraphs; ++seed) {
    std::mt19937 rng(seed);
    Graph original = randomMlp(rng);
    Graph optimised = original;
    runPasses(optimised, passes::kDefaultPipeline);
    int64_t inSize = original.type(original.inputs[0]).numel();
    // One box per seed; radius 0 (a point) included.
    std::vector<float> centre = randomData(rng, inSize, 2.0f);
    float radius = std::uniform_real_distribution<float>(0.0f, 0.5f)(rng);
    if (seed % 10 == 0)
      radius = 0;
    IntervalBuffer box;
    for (float c : centre) {
      box.lo.push_back(c - radius);
      box.hi.push_back(c + radius);
    }
    auto bounds = ibp(optimised, {box}, 1);
    ASSERT_TRUE(static_cast<bool>(bounds)) << bounds.error().str();
    const IntervalBuffer &out = (*bounds)[0];
    // Samples: the corners lo and hi, and random points inside.
    std::vector<float> samples = box.lo;
    samples.insert(samples.end(), box.hi.begin(), box.hi.end());
    for (int s = 0; s < 30; ++s)
      for (int64_t i = 0; i < inSize; ++i)
        samples.push_back(std::uniform_real_distribution<float>(box.lo[i], box.hi[i])(rng));
    int64_t n = static_cast<int64_t>(samples.size()) / inSize;
    int64_t outSize = static_cast<int64_t>(out.lo.size());
    for (int64_t b = 0; b < n; ++b) {
      std::vector<float> x(samples.begin() + b * inSize, samples.begin() + (b + 1) * inSize);
      std::vector<long double> y = exactEvaluate(original, x);
      for (int64_t j = 0; j < outSize; ++j) {
        long double v = y[j];
        ASSERT_LE(out.lo[j], v) << "seed " << seed << " sample " << b << " output " << j;
        ASSERT_GE(out.hi[j], v) << "seed " << seed << " sample " << b << " output " << j;
      }
    }
  }
}

} // namespace

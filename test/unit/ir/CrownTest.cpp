//===- test/unit/ir/CrownTest.cpp - Reference CROWN bounds ----------------===//
//
// A hand-worked CROWN example, then randomized soundness (the exact output of
// every sample lies inside the bounds) and tightness (CROWN is never looser
// than IBP, after intersecting intermediate bounds).
//
//===----------------------------------------------------------------------===//
#include "ir/Crown.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace gma;
using namespace gma::ir;

namespace {

// h = x·W1 with W1 = [[1, 1], [1, -1]] (h0 = x0 + x1, h1 = x0 - x1), r = relu(h),
// y = r0 + r1 (W2 = [1, 1]^T).
const char *kNet = R"(graph @n(%x: f32[2]) -> (f32[1]) {
  %0 = const dense<[1, 1, 1, -1]> : f32[2,2]
  %1 = const dense<[0, 0]> : f32[2]
  %2 = affine %x, %0, %1 : f32[2]
  %3 = relu %2 : f32[2]
  %4 = const dense<[1, 1]> : f32[2,1]
  %5 = const dense<[0]> : f32[1]
  %6 = affine %3, %4, %5 : f32[1]
  return %6
}
)";

TEST(Crown, HandWorkedExample) {
  auto g = parseGraph(kNet);
  ASSERT_TRUE(static_cast<bool>(g)) << g.error().str();
  // x ∈ [-1, 1]²: h0, h1 ∈ [-2, 2], both unstable, u = -l, so the lower slope
  // is a = 0 (u > -l is false) and the upper line is relu(h) <= (h + 2)/2.
  //   upper: y <= (h0 + 2)/2 + (h1 + 2)/2 = x0 + 2  → max over the box = 3
  //   lower: y >= 0·h0 + 0·h1 = 0
  // IBP gives [0, 4], so CROWN's upper bound 3 is strictly tighter.
  auto r = crown(*g, {-1, -1}, {1, 1});
  ASSERT_TRUE(static_cast<bool>(r)) << r.error().str();
  EXPECT_NEAR(r->lower[0], 0.0, 1e-6);
  EXPECT_NEAR(r->upper[0], 3.0, 1e-6);
  EXPECT_LE(r->lower[0], 0.0f);
  EXPECT_GE(r->upper[0], 3.0f);

  // A specification row: bounds on -y.
  auto s = crown(*g, {-1, -1}, {1, 1}, {-1.0}, 1);
  ASSERT_TRUE(static_cast<bool>(s));
  EXPECT_NEAR(s->lower[0], -3.0, 1e-6);
}

/// CROWN on 25 random 4-12-12-3 networks with `act` between the layers is
/// sound (300 samples each, evaluated in long double) and never looser than
/// IBP; returns on how many outputs the parallel-slope pass won.
int checkRandomNetworks(OpKind act, uint32_t seed) {
  std::mt19937 rng(seed);
  int parallelWins = 0;
  std::uniform_real_distribution<float> u(-1, 1);
  for (int trial = 0; trial < 25; ++trial) {
    std::vector<int64_t> widths = {4, 12, 12, 3};
    Graph g;
    ValueId v = g.addInput("x", TensorType{{1, widths[0]}});
    std::vector<std::vector<float>> Ws, bs;
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      int64_t K = widths[l], N = widths[l + 1];
      std::vector<float> W(K * N), b(N);
      for (float &w : W)
        w = u(rng);
      for (float &x : b)
        x = 0.3f * u(rng);
      Ws.push_back(W);
      bs.push_back(b);
      v = g.addOp(OpKind::Affine,
                  {v, g.addConst("", TensorType{{K, N}}, W), g.addConst("", TensorType{{N}}, b)},
                  TensorType{{1, N}});
      if (l + 2 < widths.size())
        v = g.addOp(act, {v}, TensorType{{1, N}});
    }
    g.outputs.push_back(v);
    std::vector<float> lo(4), hi(4);
    for (int i = 0; i < 4; ++i) {
      float c = u(rng), r = 0.5f * std::fabs(u(rng));
      lo[i] = c - r;
      hi[i] = c + r;
    }
    auto cr = crown(g, lo, hi);
    EXPECT_TRUE(static_cast<bool>(cr)) << cr.error().str();
    if (!cr)
      return parallelWins;
    // The second final pass with parallel slopes only ever raises a bound.
    CrownOptions adaptiveOnly;
    adaptiveOnly.parallelFinal = false;
    auto ca = crown(g, lo, hi, {}, 0, adaptiveOnly);
    EXPECT_TRUE(static_cast<bool>(ca));
    if (!ca)
      return parallelWins;
    for (int j = 0; j < 3; ++j) {
      EXPECT_GE(cr->lower[j], ca->lower[j]);
      EXPECT_LE(cr->upper[j], ca->upper[j]);
      parallelWins += cr->lower[j] > ca->lower[j] || cr->upper[j] < ca->upper[j];
    }
    auto ib = ibp(g, {{lo, hi}}, 1);
    EXPECT_TRUE(static_cast<bool>(ib));
    if (!ib)
      return parallelWins;
    for (int j = 0; j < 3; ++j) {
      EXPECT_GE(cr->lower[j], (*ib)[0].lo[j] - 1e-5f * std::fabs((*ib)[0].lo[j]));
      EXPECT_LE(cr->upper[j], (*ib)[0].hi[j] + 1e-5f * std::fabs((*ib)[0].hi[j]));
    }
    for (int s = 0; s < 300; ++s) {
      std::vector<long double> h(4);
      for (int i = 0; i < 4; ++i)
        h[i] = lo[i] + (hi[i] - lo[i]) * static_cast<long double>((u(rng) + 1) / 2);
      for (size_t l = 0; l < Ws.size(); ++l) {
        int64_t K = widths[l], N = widths[l + 1];
        std::vector<long double> r(N);
        for (int64_t n = 0; n < N; ++n) {
          long double acc = bs[l][n];
          for (int64_t k = 0; k < K; ++k)
            acc += h[k] * Ws[l][k * N + n];
          if (l + 1 == Ws.size())
            r[n] = acc;
          else
            r[n] = act == OpKind::Relu ? std::max(acc, 0.0L) : 1 / (1 + std::exp(-acc));
        }
        h = r;
      }
      for (int j = 0; j < 3; ++j) {
        EXPECT_LE(static_cast<long double>(cr->lower[j]), h[j]) << "trial " << trial;
        EXPECT_GE(static_cast<long double>(cr->upper[j]), h[j]) << "trial " << trial;
      }
    }
  }
  return parallelWins;
}

TEST(Crown, SoundAndNoLooserThanIbpOnRandomNetworks) {
  // ... and on some of these networks the parallel slopes win (neither
  // slope dominates).
  EXPECT_GT(checkRandomNetworks(OpKind::Relu, 99), 0);
}

TEST(Crown, SoundAndNoLooserThanIbpOnRandomSigmoidNetworks) {
  checkRandomNetworks(OpKind::Sigmoid, 100);
}

} // namespace

namespace {

TEST(Crown, InputCoefficientsReproduceTheLowerBound) {
  auto g = parseGraph(kNet);
  ASSERT_TRUE(static_cast<bool>(g));
  CrownOptions opts;
  opts.wantInputCoefs = true;
  auto r = crown(*g, {-1, -1}, {1, 1}, {}, 0, opts);
  ASSERT_TRUE(static_cast<bool>(r)) << r.error().str();
  // The lower bound y >= 0 is constant in x: coefficients (0, 0).
  ASSERT_EQ(r->inputCoefs.size(), 2u);
  EXPECT_EQ(r->inputCoefs[0], 0.0f);
  EXPECT_EQ(r->inputCoefs[1], 0.0f);
}

TEST(Crown, GradientMatchesFiniteDifferences) {
  auto g = parseGraph(kNet);
  ASSERT_TRUE(static_cast<bool>(g));
  // At x = (0.5, 0.2): h = (0.7, 0.3), both active, y = 2·x0 → dy/dx = (2, 0).
  auto grad = inputGradient(*g, {0.5f, 0.2f}, {1.0});
  ASSERT_TRUE(static_cast<bool>(grad)) << grad.error().str();
  EXPECT_EQ((*grad)[0], 2.0f);
  EXPECT_EQ((*grad)[1], 0.0f);
  // At x = (0.5, 0.7): h1 = -0.2 is inactive, y = x0 + x1 → (1, 1).
  auto g2 = inputGradient(*g, {0.5f, 0.7f}, {-2.0});
  ASSERT_TRUE(static_cast<bool>(g2));
  EXPECT_EQ((*g2)[0], -2.0f);
  EXPECT_EQ((*g2)[1], -2.0f);
}

} // namespace

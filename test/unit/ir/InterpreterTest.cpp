//===- test/unit/ir/InterpreterTest.cpp - Concrete evaluation and IBP -----===//
//
// Hand-worked bounds for a tiny network (the table next to the assertions), and
// randomized soundness: the exact (double) output of every sampled input, box
// corners and degenerate boxes included, lies inside the IBP bounds.
//
//===----------------------------------------------------------------------===//
#include "ir/Interpreter.h"
#include "ir/Parser.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace gma;
using namespace gma::ir;

namespace {

// y = relu(x·W1 + b1)·W2 with W1 = [[1,-1],[2,1]], b1 = [0.5,-1], W2 = [1,-1]^T.
const char *kTiny = R"(graph @tiny(%x: f32[1,2]) -> (f32[1,1]) {
  %0 = const dense<[1, -1, 2, 1]> : f32[2,2]
  %1 = const dense<[0.5, -1]> : f32[2]
  %2 = affine %x, %0, %1 : f32[1,2]
  %3 = relu %2 : f32[1,2]
  %4 = const dense<[1, -1]> : f32[2,1]
  %5 = matmul %3, %4 : f32[1,1]
  return %5
}
)";

Graph parse(const char *text) {
  auto g = parseGraph(text);
  EXPECT_TRUE(static_cast<bool>(g)) << (g ? "" : g.error().str());
  return std::move(*g);
}

TEST(Interpreter, EvaluatesTinyNetwork) {
  Graph g = parse(kTiny);
  // x = (1, 1): h = (1 + 2 + 0.5, -1 + 1 - 1) = (3.5, -1) → relu (3.5, 0) → y = 3.5.
  // x = (-1, 0): h = (-0.5, 0) → relu (0, 0) → y = 0.
  auto out = evaluate(g, {{1, 1, -1, 0}}, 2);
  ASSERT_TRUE(static_cast<bool>(out)) << out.error().str();
  EXPECT_EQ((*out)[0][0], 3.5f);
  EXPECT_EQ((*out)[0][1], 0.0f);
}

TEST(Interpreter, IbpMatchesHandWorkedBounds) {
  Graph g = parse(kTiny);
  // Box x0 ∈ [-1, 1], x1 ∈ [0, 2]:
  //   | value       | lower            | upper           |
  //   | h0 = x0+2x1+0.5 | -1+0+0.5 = -0.5 | 1+4+0.5 = 5.5 |
  //   | h1 = -x0+x1-1   | -1+0-1 = -2     | 1+2-1 = 2     |
  //   | r0 = relu(h0)   | 0               | 5.5           |
  //   | r1 = relu(h1)   | 0               | 2             |
  //   | y = r0 - r1     | 0-2 = -2        | 5.5-0 = 5.5   |
  auto out = ibp(g, {{{-1, 0}, {1, 2}}}, 1);
  ASSERT_TRUE(static_cast<bool>(out)) << out.error().str();
  float lo = (*out)[0].lo[0], hi = (*out)[0].hi[0];
  EXPECT_LE(lo, -2.0f);
  EXPECT_GE(hi, 5.5f);
  EXPECT_NEAR(lo, -2.0f, 1e-5);
  EXPECT_NEAR(hi, 5.5f, 1e-5);
}

TEST(Interpreter, IbpHandlesInfiniteInputs) {
  Graph g = parse(kTiny);
  float inf = std::numeric_limits<float>::infinity();
  auto out = ibp(g, {{{-inf, 0}, {1, 2}}}, 1);
  ASSERT_TRUE(static_cast<bool>(out));
  EXPECT_EQ((*out)[0].lo[0], -inf);
  EXPECT_FALSE(std::isnan((*out)[0].hi[0]));
}

/// A random MLP with per-layer weight scales spanning several orders of
/// magnitude, and its exact forward pass in long double.
struct RandomMlp {
  std::vector<int64_t> widths;
  std::vector<std::vector<float>> W, b; // W[l] is [K, N] row-major
  Graph g;

  RandomMlp(std::mt19937 &rng, std::vector<int64_t> ws) : widths(std::move(ws)) {
    std::uniform_real_distribution<float> u(-1, 1);
    std::uniform_int_distribution<int> e(-6, 6);
    ValueId v = g.addInput("x", TensorType{{1, widths[0]}});
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      int64_t K = widths[l], N = widths[l + 1];
      float scale = std::ldexp(1.0f, e(rng));
      W.emplace_back(K * N);
      b.emplace_back(N);
      for (float &w : W.back())
        w = u(rng) * scale;
      for (float &x : b.back())
        x = u(rng) * scale;
      ValueId wv = g.addConst("", TensorType{{K, N}}, W.back());
      ValueId bv = g.addConst("", TensorType{{N}}, b.back());
      v = g.addOp(OpKind::Affine, {v, wv, bv}, TensorType{{1, N}});
      if (l + 2 < widths.size())
        v = g.addOp(OpKind::Relu, {v}, TensorType{{1, N}});
    }
    g.outputs.push_back(v);
  }

  std::vector<long double> exact(const std::vector<float> &x) const {
    std::vector<long double> h(x.begin(), x.end());
    for (size_t l = 0; l < W.size(); ++l) {
      int64_t K = widths[l], N = widths[l + 1];
      std::vector<long double> r(N);
      for (int64_t n = 0; n < N; ++n) {
        long double acc = b[l][n];
        for (int64_t k = 0; k < K; ++k)
          acc += h[k] * static_cast<long double>(W[l][k * N + n]);
        r[n] = (l + 1 < W.size()) ? std::max(acc, 0.0L) : acc;
      }
      h = std::move(r);
    }
    return h;
  }
};

TEST(Interpreter, IbpIsSoundOnRandomNetworks) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int trial = 0; trial < 40; ++trial) {
    RandomMlp net(rng, {5, 17, 9, 4});
    std::vector<float> lo(5), hi(5);
    for (int i = 0; i < 5; ++i) {
      float c = u(rng) * 10, r = trial % 4 == 0 ? 0.0f : std::fabs(u(rng)) * std::pow(10.0f, trial % 3 - 2);
      lo[i] = c - r;
      hi[i] = c + r;
    }
    auto out = ibp(net.g, {{lo, hi}}, 1);
    ASSERT_TRUE(static_cast<bool>(out)) << out.error().str();
    for (int s = 0; s < 200; ++s) {
      std::vector<float> x(5);
      for (int i = 0; i < 5; ++i) {
        // Corners first, then uniform samples.
        float t = s < 32 ? static_cast<float>((s >> i) & 1) : (u(rng) + 1) / 2;
        x[i] = lo[i] + t * (hi[i] - lo[i]);
        x[i] = std::min(std::max(x[i], lo[i]), hi[i]);
      }
      auto y = net.exact(x);
      for (size_t j = 0; j < y.size(); ++j) {
        ASSERT_LE(static_cast<long double>((*out)[0].lo[j]), y[j]) << "trial " << trial;
        ASSERT_GE(static_cast<long double>((*out)[0].hi[j]), y[j]) << "trial " << trial;
      }
    }
  }
}

TEST(Interpreter, ConcreteEvaluationIsInsideIbpOfDegenerateBox) {
  std::mt19937 rng(7);
  RandomMlp net(rng, {3, 8, 2});
  std::vector<float> x = {0.25f, -3.0f, 7.5f};
  auto out = ibp(net.g, {{x, x}}, 1);
  ASSERT_TRUE(static_cast<bool>(out));
  auto y = net.exact(x);
  for (size_t j = 0; j < y.size(); ++j) {
    EXPECT_LE((*out)[0].lo[j], y[j]);
    EXPECT_GE((*out)[0].hi[j], y[j]);
    // The margin is a few double ulps of the magnitudes involved, then one f32 ulp.
    EXPECT_NEAR((*out)[0].lo[j], static_cast<double>(y[j]), 1e-5 * (1 + std::fabs(static_cast<double>(y[j]))));
  }
}

TEST(Interpreter, IbpOfElementwiseOpsWithConstants) {
  const char *text = R"(graph @ew(%x: f32[2]) -> (f32[2]) {
  %0 = const dense<[2, -4]> : f32[2]
  %1 = sub %x, %0 : f32[2]
  %2 = div %1, %0 : f32[2]
  %3 = sigmoid %2 : f32[2]
  %4 = neg %3 : f32[2]
  return %4
}
)";
  Graph g = parse(text);
  // x ∈ [0, 1] × [0, 1]: (x - c)/c is [-1, -0.5] and [-1.25, -1] (divisor -4 swaps).
  auto out = ibp(g, {{{0, 0}, {1, 1}}}, 1);
  ASSERT_TRUE(static_cast<bool>(out));
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  EXPECT_LE((*out)[0].lo[0], -sig(-0.5));
  EXPECT_GE((*out)[0].hi[0], -sig(-1.0));
  EXPECT_NEAR((*out)[0].lo[0], -sig(-0.5), 1e-6);
  EXPECT_NEAR((*out)[0].hi[1], -sig(-1.25), 1e-6);
}

} // namespace

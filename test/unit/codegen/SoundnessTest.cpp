//===- test/unit/codegen/SoundnessTest.cpp - Randomised IBP soundness -----===//
//
// Random MLPs whose weights span many orders of magnitude (|w| from 1e-4 to
// 1e3, random signs, some exact zeros), random input boxes that are
// degenerate (lo == hi), ordinary, or very wide (radius up to 1e6). The
// kernel's interval must contain the exact (long double) output at every box
// corner and at random points, and must never be narrower than ir::ibp's by
// more than rounding.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "runtime/VerifierLibrary.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gma::test {
namespace {

std::vector<float> wideRangeWeights(std::mt19937 &rng, int64_t n) {
  std::uniform_real_distribution<float> exponent(-4.0f, 3.0f);
  std::uniform_int_distribution<int> kind(0, 19);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &w : v) {
    int k = kind(rng);
    w = k == 0 ? 0.0f : std::pow(10.0f, exponent(rng)) * (k % 2 ? 1.0f : -1.0f);
  }
  return v;
}

Graph randomMlp(std::mt19937 &rng, const std::vector<int64_t> &widths, bool sigmoidLast) {
  GraphBuilder gb;
  ValueId v = gb.input({widths[0]});
  int64_t offset = 0; // alternate between two arena slots
  int64_t arena = 0;
  for (size_t l = 1; l < widths.size(); ++l) {
    bool last = l + 1 == widths.size();
    int64_t k = widths[l - 1], n = widths[l];
    ValueId w = gb.constant({k, n}, wideRangeWeights(rng, k * n));
    ValueId b = gb.constant({n}, wideRangeWeights(rng, n));
    int region = last && !sigmoidLast ? 2 : 0;
    int64_t at = region == 2 ? 0 : offset;
    v = gb.op(OpKind::Affine, {v, w, b}, {n}, region, at);
    if (!last) {
      v = gb.op(OpKind::Relu, {v}, {n}, 0, at); // in place
      arena = std::max(arena, at + n);
      offset = offset == 0 ? 64 : 0;
    } else if (sigmoidLast) {
      arena = std::max(arena, at + n);
      v = gb.op(OpKind::Sigmoid, {v}, {n}, 2, 0);
    }
  }
  gb.finish(v, arena);
  return std::move(gb.g);
}

TEST(Soundness, RandomWideRangeMlps) {
  std::mt19937 rng(2024);
  for (int net = 0; net < 6; ++net) {
    SCOPED_TRACE("network " + std::to_string(net));
    const int64_t in = 4;
    Graph g = randomMlp(rng, {in, 16, 24, 5}, net % 3 == 2);
    auto jit = codegen::JitVerifier::compile(g);
    ASSERT_TRUE(jit) << jit.error().str();
    runtime::Kernels kernels((*jit)->info(), (*jit)->weights());
    const int64_t out = 5, batch = 17;

    std::vector<float> xlo(batch * in), xhi(batch * in);
    std::uniform_real_distribution<float> centre(-10.0f, 10.0f), unit(0.0f, 1.0f);
    for (int64_t b = 0; b < batch; ++b) {
      int kind = static_cast<int>(b % 4); // 0 degenerate, 1 small, 2 medium, 3 very wide
      float radius = kind == 0 ? 0.0f : kind == 1 ? 1e-3f : kind == 2 ? 1.0f : 1e6f;
      for (int64_t i = 0; i < in; ++i) {
        float c = centre(rng);
        xlo[b * in + i] = c - radius * unit(rng);
        xhi[b * in + i] = c + radius * unit(rng);
      }
    }
    std::vector<float> ylo(batch * out), yhi(batch * out);
    kernels.ibp(xlo.data(), xhi.data(), ylo.data(), yhi.data(), batch);
    auto ref = ir::ibp(g, {{xlo, xhi}}, batch);
    ASSERT_TRUE(ref) << ref.error().str();

    for (int64_t b = 0; b < batch; ++b) {
      // All 16 corners, then random interior points.
      for (int p = 0; p < 16 + 48; ++p) {
        std::vector<float> x(in);
        for (int64_t i = 0; i < in; ++i) {
          float lo = xlo[b * in + i], hi = xhi[b * in + i];
          x[i] = p < 16 ? ((p >> i) & 1 ? hi : lo) : std::clamp(lo + (hi - lo) * unit(rng), lo, hi);
        }
        std::vector<long double> exact = exactForward(g, x);
        for (int64_t j = 0; j < out; ++j) {
          ASSERT_LE(static_cast<long double>(ylo[b * out + j]), exact[j])
              << "sample " << b << " output " << j << " point " << p;
          ASSERT_GE(static_cast<long double>(yhi[b * out + j]), exact[j])
              << "sample " << b << " output " << j << " point " << p;
        }
      }
      for (int64_t j = 0; j < out; ++j) {
        size_t i = static_cast<size_t>(b * out + j);
        double tol = 1e-6 * (std::fabs((*ref)[0].hi[i] - (*ref)[0].lo[i]) + std::fabs((*ref)[0].lo[i]));
        EXPECT_LE(ylo[i], (*ref)[0].lo[i] + tol) << "kernel lower bound above the interpreter's";
        EXPECT_GE(yhi[i], (*ref)[0].hi[i] - tol) << "kernel upper bound below the interpreter's";
      }
    }
  }
}

// Infinite and NaN-producing boxes give infinite (never NaN) bounds.
TEST(Soundness, UnboundedInputsGiveInfiniteBounds) {
  std::mt19937 rng(5);
  Graph g = randomMlp(rng, {3, 8, 2}, false);
  auto jit = codegen::JitVerifier::compile(g);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels kernels((*jit)->info(), (*jit)->weights());
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> xlo = {-inf, 0.0f, 1.0f}, xhi = {inf, 0.0f, 1.0f};
  std::vector<float> ylo(2), yhi(2);
  kernels.ibp(xlo.data(), xhi.data(), ylo.data(), yhi.data(), 1);
  for (int j = 0; j < 2; ++j) {
    EXPECT_FALSE(std::isnan(ylo[j]));
    EXPECT_FALSE(std::isnan(yhi[j]));
    EXPECT_LE(ylo[j], yhi[j]);
  }
}

} // namespace
} // namespace gma::test

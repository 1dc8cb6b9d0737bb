//===- test/unit/runtime/LinearCutTest.cpp - narrowBox --------------------===//
//
// narrowBox may only cut away points that violate a row: every sampled point
// of the box that satisfies all rows (checked in long double) must stay in
// the narrowed box, and "empty" may only be reported when none does.
//
//===----------------------------------------------------------------------===//
#include "runtime/LinearCut.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace gma::runtime {
namespace {

bool satisfies(const std::vector<float> &lin, const std::vector<double> &d, int64_t rows,
               const std::vector<float> &x) {
  const int64_t n = static_cast<int64_t>(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    long double v = lin[r * (n + 1) + n];
    for (int64_t k = 0; k < n; ++k)
      v += static_cast<long double>(lin[r * (n + 1) + k]) * x[k];
    if (v > static_cast<long double>(d[r]))
      return false;
  }
  return true;
}

TEST(LinearCut, HandComputed) {
  // x0 + x1 <= 0.5 on [0, 1]^2 leaves x0, x1 <= 0.5.
  std::vector<float> lin = {1, 1, 0}, lo = {0, 0}, hi = {1, 1};
  std::vector<double> d = {0.5};
  ASSERT_TRUE(narrowBox(lin.data(), d.data(), 1, 2, lo, hi));
  EXPECT_EQ(lo[0], 0.0f);
  EXPECT_GE(hi[0], 0.5f);
  EXPECT_LE(hi[0], 0.5f + 1e-6f);
  EXPECT_LE(hi[1], 0.5f + 1e-6f);
  // -x0 + 2 <= 0 (x0 >= 2) is nowhere in the box.
  lin = {-1, 0, 2};
  d = {0};
  lo = {0, 0};
  hi = {1, 1};
  EXPECT_FALSE(narrowBox(lin.data(), d.data(), 1, 2, lo, hi));
  // x0 <= 0.3 (a double, not a float): the cut keeps 0.3 itself.
  lin = {1, 0, 0};
  d = {0.3};
  lo = {0, 0};
  hi = {1, 1};
  ASSERT_TRUE(narrowBox(lin.data(), d.data(), 1, 2, lo, hi));
  EXPECT_GE(static_cast<double>(hi[0]), 0.3);
  EXPECT_LE(hi[0], 0.3f + 1e-6f);
}

TEST(LinearCut, NonFiniteRowsAreSkipped) {
  std::vector<float> lin = {INFINITY, 1, 0, 1, 1, -INFINITY}, lo = {0, 0}, hi = {1, 1};
  std::vector<double> d = {-1, -1};
  ASSERT_TRUE(narrowBox(lin.data(), d.data(), 2, 2, lo, hi));
  EXPECT_EQ(lo, (std::vector<float>{0, 0}));
  EXPECT_EQ(hi, (std::vector<float>{1, 1}));
}

TEST(LinearCut, NeverCutsAFeasiblePoint) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  int cut = 0, empty = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t n = 1 + trial % 5, rows = 1 + trial % 4;
    std::vector<float> lo(n), hi(n), lin(rows * (n + 1));
    for (int64_t k = 0; k < n; ++k) {
      float a = u(rng) * 100, b = u(rng) * 100;
      lo[k] = std::min(a, b);
      hi[k] = std::max(a, b);
    }
    for (float &v : lin)
      v = u(rng) * 3;
    std::vector<double> d(rows);
    for (double &v : d)
      v = u(rng) * 100;
    std::vector<float> nlo = lo, nhi = hi;
    bool nonEmpty = narrowBox(lin.data(), d.data(), rows, n, nlo, nhi);
    empty += !nonEmpty;
    for (int64_t k = 0; k < n && nonEmpty; ++k)
      cut += nlo[k] > lo[k] || nhi[k] < hi[k];
    std::uniform_real_distribution<float> t(0, 1);
    for (int s = 0; s < 2000; ++s) {
      std::vector<float> x(n);
      for (int64_t k = 0; k < n; ++k)
        x[k] = s < 2 ? (s == 0 ? lo[k] : hi[k]) : lo[k] + t(rng) * (hi[k] - lo[k]);
      if (!satisfies(lin, d, rows, x))
        continue;
      ASSERT_TRUE(nonEmpty) << "trial " << trial << ": a feasible point, but reported empty";
      for (int64_t k = 0; k < n; ++k)
        ASSERT_TRUE(x[k] >= nlo[k] && x[k] <= nhi[k])
            << "trial " << trial << ": feasible point cut away in dimension " << k;
    }
  }
  EXPECT_GT(cut, 50) << "the test never exercised a cut";
  EXPECT_GT(empty, 10) << "the test never exercised an empty box";
}

/// Points on a row's boundary, a·x + o = d up to f32: tight rows are where
/// rounding would cut a feasible point.
TEST(LinearCut, KeepsBoundaryPoints) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int trial = 0; trial < 2000; ++trial) {
    const int64_t n = 2 + trial % 4;
    std::vector<float> x(n), lin(n + 1), lo(n), hi(n);
    long double v = 0;
    for (int64_t k = 0; k < n; ++k) {
      x[k] = u(rng) * 10;
      lin[k] = u(rng) * 7;
      lo[k] = x[k] - std::fabs(u(rng));
      hi[k] = x[k] + std::fabs(u(rng));
      v += static_cast<long double>(lin[k]) * x[k];
    }
    lin[n] = u(rng);
    v += lin[n];
    std::vector<double> d = {static_cast<double>(v)};
    if (!satisfies(lin, d, 1, x))
      d[0] = std::nextafter(d[0], INFINITY);
    ASSERT_TRUE(satisfies(lin, d, 1, x));
    ASSERT_TRUE(narrowBox(lin.data(), d.data(), 1, n, lo, hi)) << "trial " << trial;
    for (int64_t k = 0; k < n; ++k)
      ASSERT_TRUE(x[k] >= lo[k] && x[k] <= hi[k]) << "trial " << trial << " dimension " << k;
  }
}

} // namespace
} // namespace gma::runtime

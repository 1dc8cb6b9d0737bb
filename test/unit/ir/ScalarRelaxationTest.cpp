//===- test/unit/ir/ScalarRelaxationTest.cpp - Lines of scalar functions --===//
//
// The lines of abi/ScalarRelax.h (through ir/ScalarRelaxation.h) bound every
// row of its table on [l, u]: checked in long double at the endpoints, the
// midpoint, the inflection point and random points, over intervals of every
// width and position; they are tight where the construction says so; and the
// sweep fails when the lines' outward margin is zeroed (the mutation check of
// RoundingCharge::ScalarLines).
//
//===----------------------------------------------------------------------===//
#include "ir/Rounding.h"
#include "ir/ScalarRelaxation.h"

#include <cmath>
#include <gtest/gtest.h>
#include <iterator>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace gma::ir;

namespace {

struct Row {
  gamma_scalar_fn fn;
  const char *name;
  long double (*exact)(long double);
};

long double exactSigmoid(long double x) { return 1.0L / (1.0L + std::exp(-x)); }
long double exactSoftplus(long double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

long double exactTanh(long double x) { return std::tanh(x); }
long double exactExp(long double x) { return std::exp(x); }

const Row kRows[] = {
    {GAMMA_SCALAR_SIGMOID, "sigmoid", exactSigmoid},
    {GAMMA_SCALAR_SOFTPLUS, "softplus", exactSoftplus},
    {GAMMA_SCALAR_TANH, "tanh", exactTanh},
    {GAMMA_SCALAR_EXP, "exp", exactExp},
};
static_assert(std::size(kRows) == GAMMA_SCALAR_FN_COUNT, "a row per function of the table");

struct Sweep {
  int checked = 0, failed = 0;
  std::ostringstream log;
};

/// lower(x) <= f(x) <= upper(x) at x, all in long double.
void check(const Row &r, const ScalarLines &s, double l, double u, long double x, Sweep &out) {
  long double y = r.exact(x);
  long double lo = static_cast<long double>(s.lower.slope) * x + s.lower.intercept;
  long double hi = static_cast<long double>(s.upper.slope) * x + s.upper.intercept;
  ++out.checked;
  if (lo <= y && hi >= y)
    return;
  if (out.failed++ < 5)
    out.log << r.name << " on [" << l << ", " << u << "] at x = " << static_cast<double>(x)
            << ": " << (lo > y ? "lower line above f" : "upper line below f") << "\n";
}

Sweep sweep() {
  Sweep out;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> centre(-12, 12), logWidth(-12, 2), t(0, 1);
  std::vector<std::pair<double, double>> boxes = {
      {-1, 1},    {0, 3},     {-3, 0},    {0, 0},      {-2, -2},  {5, 5},   {-0.5, 40},
      {-40, 0.5}, {-1e-9, 2}, {-2, 1e-9}, {-700, 700}, {-1e4, 3}, {2, 1e4}, {1e-300, 1e-299},
      {-30, -29}, {29, 30},   {-1e-7, 1e-7}, {-1000, -800}, {800, 1000}, {-1e6, 1e6}};
  for (int i = 0; i < 3000; ++i) {
    double c = centre(rng), w = std::pow(10.0, logWidth(rng));
    boxes.push_back({c - w * t(rng), c + w * t(rng)});
  }
  for (const Row &r : kRows) {
    for (auto [l, u] : boxes) {
      ScalarLines s = scalarRelaxation(r.fn, l, u);
      std::vector<long double> xs = {l, u, 0.5L * (l + u), 0};
      for (int k = 0; k < 16; ++k)
        xs.push_back(l + (static_cast<long double>(u) - l) * t(rng));
      for (long double x : xs)
        if (x >= l && x <= u)
          check(r, s, l, u, x, out);
    }
  }
  return out;
}

TEST(ScalarRelaxation, SoundOnIntervalsOfEveryWidthAndPosition) {
  Sweep s = sweep();
  EXPECT_EQ(s.failed, 0) << s.failed << " of " << s.checked << " checks fail:\n" << s.log.str();
  EXPECT_GT(s.checked, 100000);
}

TEST(ScalarRelaxation, ZeroedMarginFailsTheSweep) {
  setRoundingMutation(RoundingCharge::ScalarLines);
  Sweep s = sweep();
  setRoundingMutation(RoundingCharge::None);
  std::cout << "ScalarLines zeroed: " << s.failed << " of " << s.checked << " checks fail; e.g. "
            << s.log.str().substr(0, s.log.str().find('\n')) << "\n";
  EXPECT_GT(s.failed, 0) << "the sweep cannot see the lines' margin";
}

TEST(ScalarRelaxation, SigmoidTightWhereTheConstructionTouches) {
  // Convex side: the lower tangent touches σ at the midpoint, the chord at both ends.
  ScalarLines neg = sigmoidRelaxation(-3, -1);
  EXPECT_NEAR(neg.lower.at(-2), 1 / (1 + std::exp(2.0)), 1e-11);
  EXPECT_NEAR(neg.upper.at(-3), 1 / (1 + std::exp(3.0)), 1e-11);
  EXPECT_NEAR(neg.upper.at(-1), 1 / (1 + std::exp(1.0)), 1e-11);
  // Mirror image on the concave side.
  ScalarLines pos = sigmoidRelaxation(1, 3);
  EXPECT_NEAR(pos.upper.at(2), 1 / (1 + std::exp(-2.0)), 1e-11);
  EXPECT_NEAR(pos.lower.slope, neg.upper.slope, 1e-15);
  // Across 0 with a wide right side: the lower tangent passes through (u, σ(u))
  // (to the margin), and a tangent nearer 0 would cross σ there.
  double u = 4;
  ScalarLines both = sigmoidRelaxation(-3, u); // chord slope 0.134 > σ'(-3): a tangent
  double su = 1 / (1 + std::exp(-u));
  EXPECT_NEAR(both.lower.at(u), su, 1e-9);
  // The tangent point d < 0 has σ'(d) = the slope (bisection on the convex side).
  double lo = -30, hi = 0;
  for (int i = 0; i < 200; ++i) {
    double mid = 0.5 * (lo + hi), s = 1 / (1 + std::exp(-mid));
    (s * (1 - s) < both.lower.slope ? lo : hi) = mid;
  }
  double d = lo;
  EXPECT_LT(d, 0);
  double s = 1 / (1 + std::exp(-(d + 1e-6)));
  EXPECT_GT(s + s * (1 - s) * (u - d - 1e-6), su) << "the tangent point is not the nearest to 0";
  // The upper tangent on [-4, 3] is the mirror image of the lower one on [-3, 4].
  ScalarLines mirror = sigmoidRelaxation(-u, 3);
  EXPECT_NEAR(mirror.upper.slope, both.lower.slope, 1e-12);
  EXPECT_NEAR(mirror.upper.intercept, 1 - both.lower.intercept, 1e-9);
  // A narrow interval across 0: both lines are chords.
  ScalarLines narrow = sigmoidRelaxation(-0.1, 0.1);
  EXPECT_NEAR(narrow.lower.slope, narrow.upper.slope, 1e-15);
}

TEST(ScalarRelaxation, SoftplusTangentBelowChordAbove) {
  // Convex: the lower line touches at the midpoint, the chord at both ends.
  ScalarLines s = scalarRelaxation(GAMMA_SCALAR_SOFTPLUS, -2, 3);
  auto f = [](double x) { return std::log1p(std::exp(x)); };
  EXPECT_NEAR(s.lower.at(0.5), f(0.5), 1e-10);
  EXPECT_NEAR(s.lower.slope, 1 / (1 + std::exp(-0.5)), 1e-15);
  EXPECT_NEAR(s.upper.at(-2), f(-2), 1e-10);
  EXPECT_NEAR(s.upper.at(3), f(3), 1e-10);
  // Far right softplus(x) ~ x: no overflow, slope 1.
  ScalarLines big = scalarRelaxation(GAMMA_SCALAR_SOFTPLUS, 800, 1000);
  EXPECT_NEAR(big.lower.slope, 1, 1e-15);
  EXPECT_NEAR(big.upper.at(1000), 1000, 1e-6);
}

TEST(ScalarRelaxation, PointsAndNonFiniteBounds) {
  ScalarLines p = sigmoidRelaxation(0.5, 0.5);
  EXPECT_EQ(p.lower.slope, 0);
  EXPECT_EQ(p.upper.slope, 0);
  EXPECT_LT(p.upper.intercept - p.lower.intercept, 1e-10);
  for (auto [l, u] : {std::pair{-INFINITY, 1.0}, {0.0, INFINITY}, {NAN, 1.0}, {2.0, 1.0}}) {
    ScalarLines s = sigmoidRelaxation(l, u);
    EXPECT_EQ(s.lower.slope, 0);
    EXPECT_EQ(s.lower.intercept, 0);
    EXPECT_EQ(s.upper.slope, 0);
    EXPECT_EQ(s.upper.intercept, 1);
    ScalarLines sp = scalarRelaxation(GAMMA_SCALAR_SOFTPLUS, l, u);
    EXPECT_EQ(sp.lower.slope, 0);
    EXPECT_EQ(sp.lower.intercept, 0);
    EXPECT_EQ(sp.upper.intercept, INFINITY);
  }
}

} // namespace

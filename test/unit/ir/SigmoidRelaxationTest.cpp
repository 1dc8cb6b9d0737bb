//===- test/unit/ir/SigmoidRelaxationTest.cpp - Sigmoid lines -------------===//
//
// The lines of ir/SigmoidRelaxation bound σ on [l, u] (checked in long double
// at endpoints, tangent points and random points, over intervals of every
// width and position), and they are tight where the construction says so.
//
//===----------------------------------------------------------------------===//
#include "ir/SigmoidRelaxation.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace gma::ir;

namespace {

long double exactSigmoid(long double x) { return 1.0L / (1.0L + std::exp(-x)); }

/// lower(x) <= σ(x) <= upper(x) at x, all in long double.
void expectSound(const SigmoidLines &s, double l, double u, long double x) {
  long double y = exactSigmoid(x);
  long double lo = static_cast<long double>(s.lower.slope) * x + s.lower.intercept;
  long double hi = static_cast<long double>(s.upper.slope) * x + s.upper.intercept;
  ASSERT_LE(lo, y) << "lower line above sigma at x = " << static_cast<double>(x) << " on [" << l
                   << ", " << u << "]";
  ASSERT_GE(hi, y) << "upper line below sigma at x = " << static_cast<double>(x) << " on [" << l
                   << ", " << u << "]";
}

TEST(SigmoidRelaxation, SoundOnIntervalsOfEveryWidthAndPosition) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> centre(-12, 12), logWidth(-12, 2), t(0, 1);
  std::vector<std::pair<double, double>> boxes = {
      {-1, 1},    {0, 3},      {-3, 0},       {0, 0},     {-2, -2}, {5, 5},  {-0.5, 40},
      {-40, 0.5}, {-1e-9, 2},  {-2, 1e-9},    {-700, 700}, {-1e4, 3}, {2, 1e4}, {1e-300, 1e-299},
      {-30, -29}, {29, 30},    {-1e-7, 1e-7}};
  for (int i = 0; i < 3000; ++i) {
    double c = centre(rng), w = std::pow(10.0, logWidth(rng));
    boxes.push_back({c - w * t(rng), c + w * t(rng)});
  }
  for (auto [l, u] : boxes) {
    SigmoidLines s = sigmoidRelaxation(l, u);
    std::vector<long double> xs = {l, u, 0.5L * (l + u)};
    if (l < 0 && u > 0) {
      xs.push_back(0);
      xs.push_back(sigmoidLowerTangentPoint(u));
      xs.push_back(-sigmoidLowerTangentPoint(-l));
    }
    for (int k = 0; k < 200; ++k)
      xs.push_back(l + (static_cast<long double>(u) - l) * t(rng));
    for (long double x : xs)
      if (x >= l && x <= u)
        expectSound(s, l, u, x);
  }
}

TEST(SigmoidRelaxation, TightWhereTheConstructionTouches) {
  // Convex side: the lower tangent touches σ at the midpoint, the chord at both ends.
  SigmoidLines neg = sigmoidRelaxation(-3, -1);
  EXPECT_NEAR(neg.lower.at(-2), 1 / (1 + std::exp(2.0)), 1e-11);
  EXPECT_NEAR(neg.upper.at(-3), 1 / (1 + std::exp(3.0)), 1e-11);
  EXPECT_NEAR(neg.upper.at(-1), 1 / (1 + std::exp(1.0)), 1e-11);
  // Mirror image on the concave side.
  SigmoidLines pos = sigmoidRelaxation(1, 3);
  EXPECT_NEAR(pos.upper.at(2), 1 / (1 + std::exp(-2.0)), 1e-11);
  EXPECT_NEAR(pos.lower.slope, neg.upper.slope, 1e-15);
  // Across 0 with a wide right side: the lower tangent passes through (u, σ(u)),
  // and moving its point toward 0 would cross σ there.
  double u = 4;
  SigmoidLines both = sigmoidRelaxation(-1, u);
  double su = 1 / (1 + std::exp(-u));
  EXPECT_NEAR(both.lower.at(u), su, 1e-9);
  double d = sigmoidLowerTangentPoint(u);
  EXPECT_LT(d, 0);
  double s = 1 / (1 + std::exp(-(d + 1e-6)));
  EXPECT_GT(s + s * (1 - s) * (u - d - 1e-6), su) << "the tangent point is not the nearest to 0";
  // A narrow interval across 0: both lines are chords.
  SigmoidLines narrow = sigmoidRelaxation(-0.1, 0.1);
  EXPECT_NEAR(narrow.lower.slope, narrow.upper.slope, 1e-15);
}

TEST(SigmoidRelaxation, PointsAndNonFiniteBounds) {
  SigmoidLines p = sigmoidRelaxation(0.5, 0.5);
  EXPECT_EQ(p.lower.slope, 0);
  EXPECT_EQ(p.upper.slope, 0);
  EXPECT_LT(p.upper.intercept - p.lower.intercept, 1e-10);
  for (auto [l, u] : {std::pair{-INFINITY, 1.0}, {0.0, INFINITY}, {NAN, 1.0}, {2.0, 1.0}}) {
    SigmoidLines s = sigmoidRelaxation(l, u);
    EXPECT_EQ(s.lower.slope, 0);
    EXPECT_EQ(s.lower.intercept, 0);
    EXPECT_EQ(s.upper.slope, 0);
    EXPECT_EQ(s.upper.intercept, 1);
  }
}

} // namespace

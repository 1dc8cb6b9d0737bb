//===- test/unit/ir/MaxRelaxationTest.cpp - The lines of max(a, b) ----------===//
//
// ir/Rounding.h's maxLines (the max op's CROWN relaxation, which the crown
// kernels emit operation for operation) against max(a, b) in long double at
// the four corners of every box: the lines are linear and max is convex, so
// the upper line is above max on the box iff it is at the corners, and the
// lower line (one operand) is below it everywhere. Boxes of every width and
// magnitude, the ones where fl(1 - s) rounds and |a| dwarfs the intercept
// included; with RoundingCharge::MaxCoefficient zeroed the sweep must fail.
//
//===----------------------------------------------------------------------===//
#include "ir/Rounding.h"


#include <gtest/gtest.h>
#include <iostream>
#include <random>
#include <sstream>

using namespace gma;
using namespace gma::ir;

namespace {

struct Sweep {
  int64_t checked = 0, failed = 0;
  std::ostringstream log;
};

Sweep sweep() {
  Sweep out;
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::uniform_int_distribution<int> scale(-30, 30);
  for (int n = 0; n < 200000; ++n) {
    // A centre of magnitude 2^e, boxes of width 2^w around centres close to it.
    double c = std::ldexp(unit(rng), scale(rng));
    double w = std::ldexp(1.0, scale(rng));
    auto f32 = [](double v) { return static_cast<double>(static_cast<float>(v)); };
    double al = f32(c + w * unit(rng)), ah = f32(al + w * std::fabs(unit(rng)));
    double bl = f32(c + w * unit(rng)), bh = f32(bl + w * std::fabs(unit(rng)));
    if (!(al <= ah && bl <= bh))
      continue;
    MaxLines m = maxLines(al, ah, bl, bh);
    if (m.stableA || m.stableB)
      continue; // y is one operand: exact
    for (double a : {al, ah})
      for (double b : {bl, bh}) {
        long double y = std::max<long double>(a, b);
        long double up = static_cast<long double>(m.ca) * a + static_cast<long double>(m.s) * b +
                         static_cast<long double>(m.t);
        long double lo = m.takeB ? b : a;
        ++out.checked;
        if (up < y || lo > y) {
          if (++out.failed <= 3)
            out.log << "a in [" << al << ", " << ah << "], b in [" << bl << ", " << bh
                    << "]: at (" << a << ", " << b << ") max " << static_cast<double>(y)
                    << ", upper line " << static_cast<double>(up) << "\n";
        }
      }
  }
  return out;
}

TEST(MaxRelaxation, LinesEncloseMaxAtEveryCorner) {
  Sweep s = sweep();
  EXPECT_EQ(s.failed, 0) << s.failed << " of " << s.checked << " checks fail:\n" << s.log.str();
  EXPECT_GT(s.checked, 100000);
}

TEST(MaxRelaxation, ZeroedCoefficientChargeFailsTheSweep) {
  setRoundingMutation(RoundingCharge::MaxCoefficient);
  Sweep s = sweep();
  setRoundingMutation(RoundingCharge::None);
  std::cout << "MaxCoefficient zeroed: " << s.failed << " of " << s.checked
            << " checks fail; e.g. " << s.log.str().substr(0, s.log.str().find('\n')) << "\n";
  EXPECT_GT(s.failed, 0) << "the sweep cannot see the coefficient's charge";
}

} // namespace

//===- ir/Rounding.h - Outward rounding of interval endpoints ---*- C++ -*-===//
//
// Interval arithmetic in gamma computes each endpoint in double and rounds it
// to f32 outward. A double result `d` of one or a few correctly rounded double
// operations lies within `slack * 2^-53 * |d|` of the exact value; roundDown
// returns an f32 that is certainly <= the exact value, roundUp one that is >=.
// The generated kernels implement the same functions in LLVM IR
// (codegen/), and docs/soundness.md derives them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cmath>
#include <limits>

namespace gma::ir {

/// An f32 <= every real within slack double-ulps (relative) of d.
inline float roundDown(double d, double slack = 2.0) {
  if (std::isnan(d))
    return -std::numeric_limits<float>::infinity();
  float f = static_cast<float>(d);
  if (static_cast<double>(f) > d - std::fabs(d) * slack * 0x1p-53)
    f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

/// An f32 >= every real within slack double-ulps (relative) of d.
inline float roundUp(double d, double slack = 2.0) {
  if (std::isnan(d))
    return std::numeric_limits<float>::infinity();
  float f = static_cast<float>(d);
  if (static_cast<double>(f) < d + std::fabs(d) * slack * 0x1p-53)
    f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

/// The largest f32 <= d (exact directed conversion, no slack).
inline float f32Below(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) > d)
    f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

/// The smallest f32 >= d.
inline float f32Above(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) < d)
    f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

} // namespace gma::ir

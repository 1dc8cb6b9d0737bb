//===- passes/UlpError.h - Bounding the rounding of folded weights -*- C++ -*-===//
//
// Passes that fold constants into an affine op round the folded weights to f32
// and must record how far the result may drift in the op's `ulp_error`
// (docs/ir.md): E means |W - W_exact| <= E·2^-24·|W| and |b - b_exact| <=
// E·2^-24·|b| elementwise, which is exactly the per-output bound
// E·2^-24·(Σ_k |W[k,n]|·|x[k]| + |b[n]|) the docs state, for every x.
//
// The error bounds themselves are computed in double, so every helper here
// rounds *up*: it returns a double >= the exact real result, bumping the
// rounded result by one double ulp only when an fma residual shows it was
// inexact. Inputs are non-negative. This keeps exact folds at E = 0 (an ACAS Xu
// mean subtraction that only shifts the bias is not charged for the weights).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace gma::passes {

/// Folds that would need a larger ulp_error are not done (docs/ir.md).
constexpr int64_t kMaxUlpError = 64;
constexpr double kU24 = 0x1p-24; ///< Unit roundoff of f32.
constexpr double kU53 = 0x1p-53; ///< Unit roundoff of double.
constexpr double kInf = std::numeric_limits<double>::infinity();

inline double bumpUp(double x) { return std::nextafter(x, kInf); }

/// a + b rounded up (a, b >= 0).
inline double addUp(double a, double b) {
  double s = a + b;
  // TwoSum: the exact error of s is (a - (s - bb)) + (b - bb), bb = s - a.
  double bb = s - a;
  double err = (a - (s - bb)) + (b - bb);
  return err > 0 ? bumpUp(s) : s;
}

/// a * b rounded up (a, b >= 0).
inline double mulUp(double a, double b) {
  double p = a * b;
  return std::fma(a, b, -p) > 0 ? bumpUp(p) : p;
}

/// a / b rounded up (a >= 0, b > 0).
inline double divUp(double a, double b) {
  double q = a / b;
  return std::fma(q, b, -a) < 0 ? bumpUp(q) : q;
}

/// The exact error |a*b - fl(a*b)| of a double product (0 when exact).
inline double productError(double a, double b) { return std::fabs(std::fma(a, b, -(a * b))); }

/// The exact error of fl(a + b) by TwoSum.
inline double sumError(double a, double b) {
  double s = a + b;
  double bb = s - a;
  return std::fabs((a - (s - bb)) + (b - bb));
}

/// The ulp_error needed to cover `errBound` (an upper bound on |rounded -
/// exact|) relative to |rounded|: errBound / (2^-24·|rounded|), rounded up. 0
/// when the value is exact; infinite when a nonzero error meets rounded == 0.
inline double ulpRatio(double errBound, double rounded) {
  if (errBound == 0)
    return 0;
  if (rounded == 0 || !std::isfinite(errBound))
    return kInf;
  return divUp(errBound, std::fabs(rounded) * kU24);
}

/// ceil(ratio), or kMaxUlpError + 1 for ratios that are too large (or NaN).
inline int64_t ulpCeil(double ratio) {
  if (!(ratio <= static_cast<double>(kMaxUlpError)))
    return kMaxUlpError + 1;
  return static_cast<int64_t>(std::ceil(ratio));
}

/// Whether a folded f32 value can be used: finite and, unless exactly zero,
/// normal (a subnormal's rounding error is not relative to its size).
inline bool isUsableF32(float f) { return f == 0 || std::isnormal(f); }

} // namespace gma::passes

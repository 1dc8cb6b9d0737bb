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

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace gma::ir {

/// The unit roundoff of double (round to nearest): fl(a op b) = (a op b)(1 + δ),
/// |δ| <= kUnitRoundoff, for results in the normal range (docs/soundness.md, L1).
inline constexpr double kUnitRoundoff = 0x1p-53;

/// The smallest positive f32 (a subnormal): a sound upper bound of σ(x) when
/// σ(x) computed in double falls below it (docs/soundness.md, "sigmoid floor").
inline constexpr float kMinPositiveF32 = 0x1p-149f;

/// The absolute part of every CROWN margin: gradual underflow of a double
/// product errs by at most 2^-1075 (L1'), and a pass forms fewer than 2^40
/// products per row, each multiplying a magnitude below 2^128 (a finite f32
/// bound), so their total is below 2^-907 < 2^-900.
inline constexpr double kUnderflowCharge = 0x1p-900;

/// Higham's γ_n = n·u / (1 - n·u) (L2: an n-term sum or dot product in any
/// order errs by at most γ_n times the sum of the terms' magnitudes), widened
/// by 1e-9 relative for the rounding of this formula itself. γ_0 = 0.
inline double gammaBound(int64_t n) {
  if (n <= 0)
    return 0.0;
  double nu = static_cast<double>(n) * kUnitRoundoff;
  return nu / (1 - nu) * (1 + 1e-9);
}

/// Test-only mutation knob (the mutation check of the soundness suite,
/// test/unit/codegen/RoundingTest.cpp, RoundingMutation.*): zeroes ONE
/// rounding charge in the interpreter, ir::crown and in kernels emitted while
/// it is set. Never set outside tests; the default, None, charges everything.
/// Each value has a case that fails when it is zeroed: end to end, in the
/// kernels and in the interpreter / ir::crown alike, except CrownReluSum and
/// CrownSigmoidSum, which end to end are dominated by neighbouring charges
/// and fail only ir::crown's per-step invariant check (the kernels' charge is
/// zeroed too, unobserved). docs/soundness.md, "What the mutation check
/// covers".
enum class RoundingCharge : int {
  None = 0,
  AffineIbp,       ///< the IBP affine margin (interpreter, ibp kernel)
  SigmoidFloor,    ///< σ's upper bound floor kMinPositiveF32 (interval rules)
  CrownAffine,     ///< CROWN: the Λ·Wᵀ accumulation and the bias terms
  CrownConstant,   ///< CROWN: adding each rule's constant sum into c
  CrownConcretise, ///< CROWN: the concretisation Λ·xc - |Λ|·xr + c
  CrownFanIn,      ///< CROWN: the F_v - 1 part of each Λ term's γ (termGamma
                   ///< as if every value had one consumer term)
  CrownReluSum,    ///< CROWN: the ReLU rule's n-term intercept sum (γ_n·Σ|λt|)
  CrownSigmoidSum, ///< CROWN: the sigmoid rule's n-term intercept sum
  ScalarLines,     ///< the outward margin of every scalar relaxation's lines
                   ///< (abi/ScalarRelax.h; ir::crown and the crown kernels)
  MaxCoefficient,  ///< the max rule's intercept term for the rounding of 1 - s
                   ///< (ir/Rounding.h maxLines; ir::crown and the crown kernels)
  Count
};

inline RoundingCharge &roundingMutationRef() {
  static RoundingCharge m = RoundingCharge::None;
  return m;
}
/// The charge zeroed (RoundingCharge::None: none).
inline RoundingCharge roundingMutation() { return roundingMutationRef(); }
inline void setRoundingMutation(RoundingCharge c) { roundingMutationRef() = c; }
/// 0 if `c` is the zeroed charge, else 1: multiply each charge by it.
inline double chargeOn(RoundingCharge c) { return roundingMutation() == c ? 0.0 : 1.0; }

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

/// v rounded away from zero by 4u (relative): an upper line's slope or
/// intercept rounded up.
inline double crownUpRel(double v) { return v >= 0 ? v * (1 + 0x1p-51) : v * (1 - 0x1p-51); }
/// v moved 4u towards -inf (relative).
inline double crownDownRel(double v) { return v >= 0 ? v * (1 - 0x1p-51) : v * (1 + 0x1p-51); }

/// The lines of y = max(a, b) = a + relu(b - a) for a in [al, ah], b in [bl, bh]
/// (ir/ops/Activations.cpp's crownMax; the crown kernels emit the same
/// operations). d = b - a lies in [ld, ud]; stableB (ld >= 0): y = b;
/// stableA (ud <= 0): y = a; otherwise y >= b if takeB else y >= a, and
/// y <= ca·a + s·b + t with s = ud/(ud - ld) rounded up, ca = fl(1 - s) and
/// t = -s·ld rounded up plus 2u·|ca|·max(|al|, |ah|), which covers
/// |fl(1 - s) - (1 - s)|·|a| (RoundingCharge::MaxCoefficient).
struct MaxLines {
  double ld, ud;
  bool stableA, stableB, takeB;
  double ca, s, t;
};
inline MaxLines maxLines(double al, double ah, double bl, double bh) {
  MaxLines m;
  m.ld = crownDownRel(bl - ah);
  m.ud = crownUpRel(bh - al);
  m.stableB = m.ld >= 0;
  m.stableA = !m.stableB && m.ud <= 0;
  m.takeB = m.ud > -m.ld;
  m.s = crownUpRel(m.ud / (m.ud - m.ld));
  m.ca = 1 - m.s;
  const double ma = std::max(std::fabs(al), std::fabs(ah));
  m.t = crownUpRel(crownUpRel(-m.s * m.ld) + chargeOn(RoundingCharge::MaxCoefficient) * 2 *
                                                 kUnitRoundoff * std::fabs(m.ca) * ma);
  return m;
}

} // namespace gma::ir

//===- ir/SigmoidRelaxation.h - Linear bounds of the sigmoid on an interval -*- C++ -*-===//
//
// CROWN's relaxation of σ(x) = 1/(1 + e^-x) on [l, u] (Zhang et al., NeurIPS
// 2018, Sec. 3.3 and Table 1): two lines with lower(x) <= σ(x) <= upper(x) for
// every real x in [l, u]. σ is convex on (-∞, 0] and concave on [0, ∞):
//
//   u <= 0 (convex):   lower = tangent at the midpoint, upper = chord;
//   l >= 0 (concave):  lower = chord, upper = tangent at the midpoint;
//   l < 0 < u:         lower = chord if its slope is below σ'(l), else the
//                      tangent at the d <= 0 nearest 0 whose tangent passes
//                      below σ at u (found by bisection); the upper line is
//                      the mirror image (σ(-x) = 1 - σ(x)).
//
// The same choice of cases as auto_LiRPA 0.5 (BoundSigmoid); its tangent points
// come from a table on a 0.01 grid, these from 60 bisection steps, so they lie
// nearer the optimal point.
//
// Soundness in floating point: σ and σ' are evaluated in double with libm's exp
// (a few ulps), and a bisection step may accept a point whose exact test value
// is a few ulps positive. Each line's intercept is moved outward by
// 2^-40·(1 + max(|l|, |u|) + |d|), more than 100 times the sum of those errors
// on [l, u] (docs/soundness.md). Infinite or NaN bounds give the lines 0 and 1.
//
// codegen/CrownEmitter.cpp emits the same computation, operation for
// operation, into the crown kernels; this is its oracle.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace gma::ir {

/// y = slope·x + intercept.
struct Line {
  double slope = 0, intercept = 0;
  double at(double x) const { return slope * x + intercept; }
};

struct SigmoidLines {
  Line lower, upper;
};

/// σ(x) in double: 1 / (1 + exp(-x)).
double sigmoid(double x);

/// For u > 0: the tangent point d <= 0 nearest 0 (within 2^-60·|bracket|)
/// whose tangent line lies below σ at u, hence on all of (-∞, u].
double sigmoidLowerTangentPoint(double u);

/// Sound lower and upper lines of σ on [l, u] (l <= u).
SigmoidLines sigmoidRelaxation(double l, double u);

/// Bisection steps and bracket doublings of sigmoidLowerTangentPoint (the
/// kernels unroll nothing: they loop the same counts).
inline constexpr int kSigmoidBisectSteps = 60;
inline constexpr int kSigmoidBracketSteps = 12;
/// Relative width below which [l, u] is treated as a point (flat lines).
inline constexpr double kSigmoidFlatWidth = 0x1p-30;
/// The outward margin of every line's intercept, per unit of magnitude.
inline constexpr double kSigmoidMargin = 0x1p-40;

} // namespace gma::ir

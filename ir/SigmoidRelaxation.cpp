//===- ir/SigmoidRelaxation.cpp - Linear bounds of the sigmoid ------------===//
//
// See the header. Every step is a plain IEEE double operation in a fixed
// order, so that the crown kernels (codegen/CrownEmitter.cpp) reproduce it.
//
//===----------------------------------------------------------------------===//
#include "ir/SigmoidRelaxation.h"

#include <algorithm>
#include <cmath>

namespace gma::ir {
namespace {

/// σ(d) + σ'(d)·(u - d) - σ(u), σ(u) given: <= 0 iff the tangent at d passes
/// below σ at u.
double tangentGap(double d, double u, double su) {
  double s = sigmoid(d);
  return s + s * (1.0 - s) * (u - d) - su;
}

Line tangentAt(double d) {
  double s = sigmoid(d);
  double a = s * (1.0 - s);
  return {a, s - a * d};
}

} // namespace

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double sigmoidLowerTangentPoint(double u) {
  double su = sigmoid(u);
  // Bracket: the gap is negative far left (σ and σ' vanish, σ(u) > 1/2).
  double lo = -1.0;
  for (int i = 0; i < kSigmoidBracketSteps; ++i)
    lo = tangentGap(lo, u, su) > 0 ? 2.0 * lo : lo;
  // Bisect between lo (accepted) and 0 (whose tangent lies above σ at u > 0).
  double hi = 0.0;
  for (int i = 0; i < kSigmoidBisectSteps; ++i) {
    double mid = 0.5 * (lo + hi);
    bool below = tangentGap(mid, u, su) <= 0;
    lo = below ? mid : lo;
    hi = below ? hi : mid;
  }
  return lo;
}

SigmoidLines sigmoidRelaxation(double l, double u) {
  SigmoidLines r;
  r.lower = {0.0, 0.0};
  r.upper = {0.0, 1.0};
  if (!(std::isfinite(l) && std::isfinite(u) && l <= u))
    return r; // 0 <= σ <= 1
  double m = 1.0 + std::max(std::fabs(l), std::fabs(u));
  double sl = sigmoid(l), su = sigmoid(u);
  if (u - l < kSigmoidFlatWidth * m) {
    // A point, or nearly: σ is monotone, so σ(l) <= σ(x) <= σ(u).
    r.lower = {0.0, sl - kSigmoidMargin * m};
    r.upper = {0.0, su + kSigmoidMargin * m};
    return r;
  }
  double k = (su - sl) / (u - l);
  Line chord{k, sl - k * l};
  double dl = 0.0, du = 0.0; // tangent points (0 for a chord)
  if (u <= 0) { // convex
    dl = 0.5 * (l + u);
    r.lower = tangentAt(dl);
    r.upper = chord;
  } else if (l >= 0) { // concave
    du = 0.5 * (l + u);
    r.lower = chord;
    r.upper = tangentAt(du);
  } else {
    if (k < sl * (1.0 - sl)) {
      r.lower = chord;
    } else {
      dl = sigmoidLowerTangentPoint(u);
      r.lower = tangentAt(dl);
    }
    if (k < su * (1.0 - su)) {
      r.upper = chord;
    } else {
      du = -sigmoidLowerTangentPoint(-l);
      r.upper = tangentAt(du);
    }
  }
  r.lower.intercept -= kSigmoidMargin * (m + std::fabs(dl));
  r.upper.intercept += kSigmoidMargin * (m + std::fabs(du));
  return r;
}

} // namespace gma::ir

//===- ir/ops/Activations.cpp - relu, sigmoid -----------------------------===//
//
// Monotone elementwise activations: the interval rule maps endpoints to
// endpoints (docs/soundness.md). CROWN relaxations: ReLU, for l < 0 < u, the
// upper line y <= s·(x - l), s = u/(u - l), and the lower line y >= a·x,
// a = 1 if u > -l else 0 (auto_LiRPA's adaptive choice; a = s with parallel
// slopes); sigmoid, the tangent and chord lines of ir/SigmoidRelaxation.h.
// For a lower bound, λ >= 0 takes the lower line, λ < 0 the upper one.
//
//===----------------------------------------------------------------------===//
#include "ir/CrownRule.h"
#include "ir/Rounding.h"
#include "ir/SigmoidRelaxation.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <cmath>

namespace gma::ir {
using namespace ops;
namespace {

int64_t numel(const Graph &g, const Op &op) { return g.type(op.result).numel(); }

template <class T> void evalRelu(const EvalArgs<T> &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i)
    a.out[i] = std::max(a.in[0][i], T(0));
}

Status intervalRelu(const IntervalArgs &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i) {
    a.outLo[i] = std::max(a.lo[0][i], 0.0f);
    a.outHi[i] = std::max(a.hi[0][i], 0.0f);
  }
  return Status::ok();
}

template <class T> void evalSigmoid(const EvalArgs<T> &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i)
    a.out[i] = T(1) / (T(1) + std::exp(-a.in[0][i]));
}

Status intervalSigmoid(const IntervalArgs &a) {
  // Monotone: endpoints map to endpoints. exp is within 1 ulp and three more
  // double ops follow, so a slack of 8 double ulps covers it while σ is a
  // normal double. Below 2^-149 (x < -103) the double σ may be 0 (exp(-x)
  // overflows from x < -709.78) or subnormal, while σ(x) > 0: the upper bound
  // is floored at the smallest positive f32, above every σ(x) < 2^-149
  // (docs/soundness.md, "sigmoid floor"). 0 <= σ <= 1 caps both ends (and
  // maps NaN endpoints to [0, 1]).
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i) {
    float lo = roundDown(1.0 / (1.0 + std::exp(-static_cast<double>(a.lo[0][i]))), 8);
    float hi = roundUp(1.0 / (1.0 + std::exp(-static_cast<double>(a.hi[0][i]))), 8);
    if (roundingMutation() != RoundingCharge::SigmoidFloor)
      hi = std::max(hi, kMinPositiveF32);
    a.outLo[i] = std::max(lo, 0.0f);
    a.outHi[i] = std::min(hi, 1.0f);
  }
  return Status::ok();
}

/// Λx terms: λ·s and (parallel) λ·a are rounded products (γ_F), λ·1 and λ·0
/// exact (γ_{F-1}); the intercepts λ·t form the rule's n-term constant sum
/// (γ_n), then added into c. The upper line's slope and intercept are
/// rounded up, which keeps it above the ReLU on [l, u].
Status crownRelu(CrownBackward &ctx, const Op &op) {
  const CrownMat &L = ctx.lambda();
  ValueId x = op.operands[0];
  CrownBounds b = ctx.bounds(x);
  int64_t n = b.lo.size();
  CrownMat Lx(L.rows(), n);
  CrownVec mx = b.mag();
  CrownVec &err = ctx.err();
  const bool parallel = ctx.parallelSlopes();
  const double gExact = ctx.termGamma(x, 0), gProd = ctx.termGamma(x, 1);
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownReluSum);
  CrownVec csum = CrownVec::Zero(L.rows());
  for (int64_t i = 0; i < n; ++i) {
    double l = b.lo[i], u = b.hi[i];
    if (l >= 0) {
      Lx.col(i) = L.col(i);
      err += gExact * mx[i] * L.col(i).cwiseAbs();
    } else if (u <= 0) {
      Lx.col(i).setZero();
    } else {
      double ratio = u / (u - l);
      double s = crownUpRel(ratio);  // slope rounded up
      double t = crownUpRel(-s * l); // intercept rounded up (t > 0)
      double a = parallel ? ratio : (u > -l ? 1.0 : 0.0);
      for (int64_t r = 0; r < L.rows(); ++r) {
        double lamv = L(r, i);
        if (lamv >= 0) {
          Lx(r, i) = lamv * a;
          // λ·a rounds for parallel slopes, is exact for a in {0, 1}.
          err[r] += (parallel ? gProd : gExact) * std::fabs(lamv * a) * mx[i];
        } else {
          Lx(r, i) = lamv * s;
          csum[r] += lamv * t;
          err[r] += gProd * std::fabs(lamv * s) * mx[i] + gSum * std::fabs(lamv * t);
        }
      }
    }
  }
  ctx.addConstant(csum);
  ctx.accumulate(x, Lx);
  return Status::ok();
}

/// λ >= 0 takes the lower line, λ < 0 the upper one (the lines are sound as
/// doubles). Rounding: λ·a once, λ·b once and its add.
Status crownSigmoid(CrownBackward &ctx, const Op &op) {
  const CrownMat &L = ctx.lambda();
  ValueId x = op.operands[0];
  CrownBounds b = ctx.bounds(x);
  int64_t n = b.lo.size();
  CrownMat Lx(L.rows(), n);
  CrownVec mx = b.mag();
  CrownVec &err = ctx.err();
  const double gProd = ctx.termGamma(x, 1);
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownSigmoidSum);
  CrownVec csum = CrownVec::Zero(L.rows());
  for (int64_t i = 0; i < n; ++i) {
    SigmoidLines lines = sigmoidRelaxation(b.lo[i], b.hi[i]);
    for (int64_t r = 0; r < L.rows(); ++r) {
      double lamv = L(r, i);
      const Line &line = lamv >= 0 ? lines.lower : lines.upper;
      Lx(r, i) = lamv * line.slope;
      csum[r] += lamv * line.intercept;
      err[r] += gProd * std::fabs(lamv * line.slope) * mx[i] +
                gSum * std::fabs(lamv * line.intercept);
    }
  }
  ctx.addConstant(csum);
  ctx.accumulate(x, Lx);
  return Status::ok();
}

/// ReLU's derivative at 0 is taken as 0.
Status gradRelu(const GradArgs &a) {
  for (size_t j = 0; j < a.adjoint.size(); ++j)
    if (a.value(0, static_cast<int64_t>(j)) > 0)
      a.add(0, static_cast<int64_t>(j), a.adjoint[j]);
  return Status::ok();
}

/// σ'(x) = σ(x)·(1 - σ(x)).
Status gradSigmoid(const GradArgs &a) {
  for (size_t j = 0; j < a.adjoint.size(); ++j) {
    double s = sigmoid(a.value(0, static_cast<int64_t>(j)));
    a.add(0, static_cast<int64_t>(j), a.adjoint[j] * (s * (1.0 - s)));
  }
  return Status::ok();
}

template <OpKind K> Graph unaryInstance(std::mt19937_64 &rng) {
  return instanceOf(rng, K, {TensorType{randomShape(rng)}}, {false});
}

} // namespace

extern const OpRecord kReluRecord = {
    .shape = sameShape,
    .eval = evalRelu<float>,
    .eval64 = evalRelu<double>,
    .interval = intervalRelu,
    .instance = unaryInstance<OpKind::Relu>,
    .crown = crownRelu,
    .tighten = CrownTighten::Unstable,
    .grad = gradRelu,
};
extern const OpRecord kSigmoidRecord = {
    .shape = sameShape,
    .eval = evalSigmoid<float>,
    .eval64 = evalSigmoid<double>,
    .interval = intervalSigmoid,
    .instance = unaryInstance<OpKind::Sigmoid>,
    .crown = crownSigmoid,
    .tighten = CrownTighten::All,
    .grad = gradSigmoid,
};

} // namespace gma::ir

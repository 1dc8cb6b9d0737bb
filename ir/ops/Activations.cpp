//===- ir/ops/Activations.cpp - relu, sigmoid -----------------------------===//
//
// Monotone elementwise activations: the interval rule maps endpoints to
// endpoints (docs/soundness.md). Their CROWN relaxations are in ir/Crown.cpp
// (ReLU: the triangle; sigmoid: ir/SigmoidRelaxation.h).
//
//===----------------------------------------------------------------------===//
#include "ir/Rounding.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <cmath>

namespace gma::ir {
using namespace ops;
namespace {

Expected<TensorType> sameShape(const ShapeArgs &a) { return a.operands[0]; }

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

template <OpKind K> Graph unaryInstance(std::mt19937_64 &rng) {
  return instanceOf(rng, K, {TensorType{randomShape(rng)}}, {false});
}

} // namespace

extern const OpRecord kReluRecord = {sameShape, evalRelu<float>, evalRelu<double>, intervalRelu,
                                     unaryInstance<OpKind::Relu>};
extern const OpRecord kSigmoidRecord = {sameShape, evalSigmoid<float>, evalSigmoid<double>,
                                        intervalSigmoid, unaryInstance<OpKind::Sigmoid>};

} // namespace gma::ir

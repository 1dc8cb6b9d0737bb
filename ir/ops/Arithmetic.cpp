//===- ir/ops/Arithmetic.cpp - add, sub, mul, div, neg --------------------===//
//
// Elementwise arithmetic with numpy broadcasting. Interval rules (IBP, Gowal
// et al. 2018): endpoint arithmetic in double, each result rounded outward
// to f32 (ir/Rounding.h: a sum of two f32 is within one double rounding, a
// product or quotient of f32 values too). Division is bounded only by a
// constant; mul of two activations takes the four-product interval.
//
//===----------------------------------------------------------------------===//
#include "ir/CrownRule.h"
#include "ir/Rounding.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gma::ir {
using namespace ops;
namespace {

Expected<TensorType> broadcastShape(const ShapeArgs &a) {
  auto s = broadcastShapes(a.operands[0].shape, a.operands[1].shape);
  if (!s)
    return s.takeError();
  return TensorType{*s};
}

template <OpKind K, class T> T apply(T a, T b) {
  if constexpr (K == OpKind::Add)
    return a + b;
  else if constexpr (K == OpKind::Sub)
    return a - b;
  else if constexpr (K == OpKind::Mul)
    return a * b;
  else
    return a / b;
}

template <OpKind K, class T> void evalBinary(const EvalArgs<T> &a) {
  const Shape &rs = a.g.type(a.op.result).shape;
  auto ia = broadcastIndex(a.g.type(a.op.operands[0]).shape, rs);
  auto ib = broadcastIndex(a.g.type(a.op.operands[1]).shape, rs);
  for (size_t i = 0; i < ia.size(); ++i)
    a.out[i] = apply<K, T>(a.in[0][ia[i]], a.in[1][ib[i]]);
}

template <OpKind K> Status intervalBinary(const IntervalArgs &a) {
  const double inf = std::numeric_limits<double>::infinity();
  const Shape &rs = a.g.type(a.op.result).shape;
  if (K == OpKind::Div && !a.g.isConstant(a.op.operands[1]))
    return cannotBound(a.op, "bound a division by an activation in");
  auto ia = broadcastIndex(a.g.type(a.op.operands[0]).shape, rs);
  auto ib = broadcastIndex(a.g.type(a.op.operands[1]).shape, rs);
  for (size_t i = 0; i < ia.size(); ++i) {
    double al = a.lo[0][ia[i]], ah = a.hi[0][ia[i]], bl = a.lo[1][ib[i]], bh = a.hi[1][ib[i]];
    double lo, hi;
    if constexpr (K == OpKind::Add) {
      lo = al + bl;
      hi = ah + bh;
    } else if constexpr (K == OpKind::Sub) {
      lo = al - bh;
      hi = ah - bl;
    } else if constexpr (K == OpKind::Mul) {
      intervalMul(al, ah, bl, bh, lo, hi);
    } else { // a constant divisor: bl == bh
      if (bl == 0 || std::isnan(bl)) {
        lo = -inf;
        hi = inf;
      } else {
        lo = bl > 0 ? al / bl : ah / bl;
        hi = bl > 0 ? ah / bl : al / bl;
      }
    }
    a.outLo[i] = roundDown(lo);
    a.outHi[i] = roundUp(hi);
  }
  return Status::ok();
}

/// Two operands of broadcast-compatible random shapes; one of them constant
/// at random (div: the divisor, kept away from 0).
template <OpKind K> Graph binaryInstance(std::mt19937_64 &rng) {
  Shape s = randomShape(rng);
  Shape t = s;
  // Broadcast: drop leading dims or set some to 1.
  std::uniform_int_distribution<int> coin(0, 3);
  while (!t.empty() && coin(rng) == 0)
    t.erase(t.begin());
  for (int64_t &d : t)
    if (coin(rng) == 0)
      d = 1;
  bool swap = coin(rng) < 2;
  std::vector<TensorType> ops = {TensorType{swap ? t : s}, TensorType{swap ? s : t}};
  int which = std::uniform_int_distribution<int>(0, 2)(rng); // 0: a const, 1: b const, 2: none
  if (K == OpKind::Div)
    which = 1;
  return instanceOf(rng, K, ops, {which == 0, which == 1}, {}, nullptr,
                    K == OpKind::Div ? 0.5f : 0.0f);
}

template <class T> void evalNeg(const EvalArgs<T> &a) {
  int64_t n = a.g.type(a.op.result).numel();
  for (int64_t i = 0; i < n; ++i)
    a.out[i] = -a.in[0][i];
}

Status intervalNeg(const IntervalArgs &a) {
  int64_t n = a.g.type(a.op.result).numel();
  for (int64_t i = 0; i < n; ++i) {
    a.outLo[i] = -a.hi[0][i];
    a.outHi[i] = -a.lo[0][i];
  }
  return Status::ok();
}

Graph negInstance(std::mt19937_64 &rng) {
  return instanceOf(rng, OpKind::Neg, {TensorType{randomShape(rng)}}, {false});
}

// --- CROWN backward rules -------------------------------------------------

/// add/sub: a constant operand's Λ·c goes into c (an n-term dot product,
/// γ_n); an activation operand gets ±Λ summed over the positions that read
/// each of its elements (exact terms, summed with its other consumers').
template <OpKind K> Status crownAddSub(CrownBackward &ctx, const Op &op) {
  const Graph &g = ctx.graph();
  const CrownMat &L = ctx.lambda();
  const Shape &rs = g.type(op.result).shape;
  for (int k = 0; k < 2; ++k) {
    ValueId v = op.operands[k];
    double sign = (K == OpKind::Sub && k == 1) ? -1 : 1;
    if (g.isConstant(v)) {
      CrownVec cv = crownBroadcastConst(g, v, rs);
      CrownVec sum = sign * (L * cv);
      ctx.err() += gammaBound(cv.size()) * (L.cwiseAbs() * cv.cwiseAbs());
      ctx.addConstant(sum);
    } else {
      ctx.err() += ctx.termGamma(v, 0) * (L.cwiseAbs() * crownBroadcastMag(ctx, v, rs));
      ctx.accumulate(v, sign * crownReduceBroadcast(L, g.type(v).shape, rs));
    }
  }
  return Status::ok();
}

/// mul/div by a constant: one rounding per coefficient (two for the
/// reciprocal), then the sum with the coefficient's other terms, bounded
/// with x's magnitudes broadcast to the result.
template <OpKind K> Status crownMulDiv(CrownBackward &ctx, const Op &op) {
  const Graph &g = ctx.graph();
  int ci = g.isConstant(op.operands[1]) ? 1 : (g.isConstant(op.operands[0]) ? 0 : -1);
  if (ci < 0 || (K == OpKind::Div && ci != 1))
    return crownUnsupported(op);
  const Shape &rs = g.type(op.result).shape;
  ValueId x = op.operands[1 - ci];
  CrownVec cv = crownBroadcastConst(g, op.operands[ci], rs);
  if (K == OpKind::Div)
    cv = cv.cwiseInverse();
  CrownMat scaled = ctx.lambda() * cv.asDiagonal();
  CrownVec mx = crownBroadcastMag(ctx, x, rs);
  ctx.err() += ctx.termGamma(x, K == OpKind::Div ? 2 : 1) * (scaled.cwiseAbs() * mx);
  ctx.accumulate(x, crownReduceBroadcast(scaled, g.type(x).shape, rs));
  return Status::ok();
}

/// Broadcasting binary ops: each element of operand k is read by
/// numel(result)/numel(operand) result positions.
int64_t broadcastTerms(const Graph &g, const Op &op, size_t k) {
  return std::max<int64_t>(1, g.type(op.result).numel() /
                                  std::max<int64_t>(1, g.type(op.operands[k]).numel()));
}


// --- reference gradient ---------------------------------------------------

template <OpKind K> Status gradAddSub(const GradArgs &a) {
  const Shape &rs = a.g.type(a.op.result).shape;
  for (size_t k = 0; k < 2; ++k) {
    auto idx = broadcastIndex(a.g.type(a.op.operands[k]).shape, rs);
    double sign = (K == OpKind::Sub && k == 1) ? -1 : 1;
    for (size_t j = 0; j < a.adjoint.size(); ++j)
      a.add(k, idx[j], sign * a.adjoint[j]);
  }
  return Status::ok();
}

template <OpKind K> Status gradMulDiv(const GradArgs &a) {
  const Graph &g = a.g;
  int ci = g.isConstant(a.op.operands[1]) ? 1 : (g.isConstant(a.op.operands[0]) ? 0 : -1);
  if (ci < 0 || (K == OpKind::Div && ci != 1))
    return Error(ErrorCode::IrVerify, "the gradient of a product of activations is not supported");
  const Shape &rs = g.type(a.op.result).shape;
  auto cidx = broadcastIndex(g.type(a.op.operands[ci]).shape, rs);
  auto xidx = broadcastIndex(g.type(a.op.operands[1 - ci]).shape, rs);
  const Weight *w = g.constant(a.op.operands[ci]);
  for (size_t j = 0; j < a.adjoint.size(); ++j) {
    double k = w->at(cidx[j]);
    a.add(1 - ci, xidx[j], K == OpKind::Div ? a.adjoint[j] / k : a.adjoint[j] * k);
  }
  return Status::ok();
}


} // namespace

#define GAMMA_BINARY_RECORD(Enum, Rule, Grad)                                                      \
  extern const OpRecord k##Enum##Record = {                                                        \
      .shape = broadcastShape,                                                                     \
      .eval = evalBinary<OpKind::Enum, float>,                                                     \
      .eval64 = evalBinary<OpKind::Enum, double>,                                                  \
      .interval = intervalBinary<OpKind::Enum>,                                                    \
      .instance = binaryInstance<OpKind::Enum>,                                                    \
      .crown = Rule<OpKind::Enum>,                                                                 \
      .crownTerms = broadcastTerms,                                                                \
      .grad = Grad<OpKind::Enum>,                                                                  \
  };
GAMMA_BINARY_RECORD(Add, crownAddSub, gradAddSub)
GAMMA_BINARY_RECORD(Sub, crownAddSub, gradAddSub)
GAMMA_BINARY_RECORD(Mul, crownMulDiv, gradMulDiv)
GAMMA_BINARY_RECORD(Div, crownMulDiv, gradMulDiv)
#undef GAMMA_BINARY_RECORD

extern const OpRecord kNegRecord = {
    .shape = sameShape,
    .eval = evalNeg<float>,
    .eval64 = evalNeg<double>,
    .interval = intervalNeg,
    .instance = negInstance,
    .crown = crownSigned<-1>,
    .grad = gradSigned<-1>,
};

} // namespace gma::ir

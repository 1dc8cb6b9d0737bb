//===- ir/ops/Activations.cpp - relu, leaky_relu, the scalar-table functions -===//
//
// Monotone elementwise activations (relu, leaky_relu, sigmoid, softplus, tanh, exp): the interval rule maps endpoints to
// endpoints (docs/soundness.md). CROWN relaxations: ReLU, for l < 0 < u, the
// upper line y <= s·(x - l), s = u/(u - l), and the lower line y >= a·x,
// a = 1 if u > -l else 0 (auto_LiRPA's adaptive choice; a = s with parallel
// slopes); sigmoid, softplus, tanh and exp, the tangent and chord lines of the scalar
// table (abi/ScalarRelax.h): a new smooth increasing function is a row there
// plus a record here made of the scalar* templates below.
// For a lower bound, λ >= 0 takes the lower line, λ < 0 the upper one.
//
//===----------------------------------------------------------------------===//
#include "ir/CrownRule.h"
#include "ir/Rounding.h"
#include "ir/ScalarRelaxation.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <fmt/format.h>
#include <cmath>
#include <limits>

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

/// LeakyReLU's slope below 0: its 0-d constant operand.
double leakyAlpha(const Graph &g, const Op &op) { return g.constant(op.operands[1])->at(0); }

/// x >= 0 ? x : α·x, with α·x rounded to T (ONNX's f32 product).
template <class T> void evalLeakyRelu(const EvalArgs<T> &a) {
  const T alpha = a.in[1][0];
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i) {
    T x = a.in[0][i];
    a.out[i] = x < T(0) ? alpha * x : x;
  }
}

/// Monotone (α >= 0): endpoints to endpoints; α·x of two f32 is exact in
/// double, so the directed conversion (roundDown/Up with slack 0) is tight.
Status intervalLeakyRelu(const IntervalArgs &a) {
  const double alpha = a.lo[1][0];
  if (!(alpha >= 0.0 && alpha <= 1.0) || a.hi[1][0] != a.lo[1][0])
    return cannotBound(a.op, "bound (alpha outside [0, 1] or not a constant)");
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i) {
    float l = a.lo[0][i], h = a.hi[0][i];
    a.outLo[i] = l < 0.0f ? roundDown(alpha * l, 0.0) : l;
    a.outHi[i] = h < 0.0f ? roundUp(alpha * h, 0.0) : h;
  }
  return Status::ok();
}

template <class T> void evalSigmoid(const EvalArgs<T> &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i)
    a.out[i] = T(1) / (T(1) + std::exp(-a.in[0][i]));
}

/// x > 0 ? x + log1p(e^-x) : log1p(e^x) in T (no overflow; f32: expf, log1pf).
template <class T> void evalSoftplus(const EvalArgs<T> &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i) {
    T x = a.in[0][i];
    a.out[i] = x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
}

template <class T> void evalTanh(const EvalArgs<T> &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i)
    a.out[i] = std::tanh(a.in[0][i]);
}

template <class T> void evalExp(const EvalArgs<T> &a) {
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i)
    a.out[i] = std::exp(a.in[0][i]);
}

/// Increasing with range (lo, hi) (the scalar table's): endpoints map to
/// endpoints. The row's f in double is within a few ulps (at most two libm
/// calls and three double ops), so a slack of 8 double ulps covers it while
/// f is a normal double; near ±1 (σ, tanh) the relative slack moves a
/// double ±1 inward. A function with range (0, hi) may be 0 or subnormal in
/// double (σ: exp(-x) overflows from x < -709.78; softplus, exp: e^x
/// underflows) while f(x) > 0: its upper bound is floored at the smallest
/// positive f32, above every f(x) < 2^-149 (docs/soundness.md, "sigmoid
/// floor"). The range caps both ends (and maps NaN endpoints to it).
template <gamma_scalar_fn F> Status intervalScalar(const IntervalArgs &a) {
  double range[2];
  gamma_scalar_range(F, range);
  const float floorLo = static_cast<float>(range[0]), capHi = static_cast<float>(range[1]);
  const bool positive = range[0] == 0.0;
  for (int64_t i = 0, n = numel(a.g, a.op); i < n; ++i) {
    float lo = roundDown(gamma_scalar_value(F, static_cast<double>(a.lo[0][i])), 8);
    float hi = roundUp(gamma_scalar_value(F, static_cast<double>(a.hi[0][i])), 8);
    if (positive && roundingMutation() != RoundingCharge::SigmoidFloor)
      hi = std::max(hi, kMinPositiveF32);
    a.outLo[i] = std::max(lo, floorLo);
    a.outHi[i] = std::min(hi, capHi);
  }
  return Status::ok();
}

/// Λx terms: λ·s and (parallel) λ·a are rounded products (γ_F), λ·1 and λ·0
/// exact (γ_{F-1}); the intercepts λ·t form the rule's n-term constant sum
/// (γ_n), then added into c. The upper line's slope and intercept are
/// rounded up, which keeps it above the ReLU on [l, u].
/// ReLU (alpha = 0) and LeakyReLU (0 < alpha <= 1). Unstable neurons: the
/// upper line through (l, α·l) and (u, u), slope s = (u - α·l)/(u - l)
/// rounded up and intercept t = (s - α)·(-l) rounded up (so the line stays
/// above f at both ends, hence on [l, u]); the lower line a·x with a = 1 if
/// u > -l else α (a = u/(u - l)-like ratio with parallel slopes): any a in
/// [α, 1] is below f. For α = 0 every operation is ReLU's former rule.
Status crownPiecewise(CrownBackward &ctx, const Op &op, double alpha) {
  const CrownMat &L = ctx.lambda();
  ValueId x = op.operands[0];
  CrownBounds b = ctx.bounds(x);
  int64_t n = b.lo.size();
  CrownMat Lx(L.rows(), n);
  CrownVec mx = b.mag();
  CrownVec &err = ctx.err();
  const bool parallel = ctx.parallelSlopes();
  const float *slopes = ctx.lowerSlopes(x);
  // With α != 0 the products λ·α round: every term is charged as a product.
  const double gProd = ctx.termGamma(x, 1);
  const double gExact = alpha != 0 ? gProd : ctx.termGamma(x, 0);
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownReluSum);
  CrownVec csum = CrownVec::Zero(L.rows());
  for (int64_t i = 0; i < n; ++i) {
    double l = b.lo[i], u = b.hi[i];
    if (l >= 0) {
      Lx.col(i) = L.col(i);
      err += gExact * mx[i] * L.col(i).cwiseAbs();
    } else if (u <= 0) {
      if (alpha == 0) {
        Lx.col(i).setZero();
      } else {
        Lx.col(i) = L.col(i) * alpha;
        err += gProd * mx[i] * Lx.col(i).cwiseAbs();
      }
    } else {
      double ratio = (u - alpha * l) / (u - l);
      double s = crownUpRel(ratio); // slope rounded up
      // Intercept rounded up (t > 0).
      double t = alpha == 0 ? crownUpRel(-s * l) : crownUpRel(crownUpRel(s - alpha) * -l);
      // The caller's slope clamped to [α, 1] (fmin(1, NaN) = 1), else the
      // adaptive one.
      double a = parallel ? ratio
                 : slopes ? std::fmax(alpha, std::fmin(1.0, static_cast<double>(slopes[i])))
                          : (u > -l ? 1.0 : alpha);
      // λ·a rounds for parallel slopes, is exact for a in {α, 1} (α = 0).
      const double gA = !parallel && (a == 1.0 || a == alpha) ? gExact : gProd;
      for (int64_t r = 0; r < L.rows(); ++r) {
        double lamv = L(r, i);
        if (lamv >= 0) {
          Lx(r, i) = lamv * a;
          err[r] += gA * std::fabs(lamv * a) * mx[i];
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

Status crownRelu(CrownBackward &ctx, const Op &op) { return crownPiecewise(ctx, op, 0.0); }

Status crownLeakyRelu(CrownBackward &ctx, const Op &op) {
  double alpha = leakyAlpha(ctx.graph(), op);
  if (!(alpha >= 0.0 && alpha <= 1.0))
    return cannotBound(op, "bound by CROWN (alpha outside [0, 1])");
  return crownPiecewise(ctx, op, alpha);
}

/// λ >= 0 takes the lower line, λ < 0 the upper one (the lines are sound as
/// doubles). Rounding: λ·a once, λ·b once and its add.
template <gamma_scalar_fn F> Status crownScalar(CrownBackward &ctx, const Op &op) {
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
    ScalarLines lines = scalarRelaxation(F, b.lo[i], b.hi[i]);
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

Status gradLeakyRelu(const GradArgs &a) {
  const double alpha = leakyAlpha(a.g, a.op);
  for (size_t j = 0; j < a.adjoint.size(); ++j)
    a.add(0, static_cast<int64_t>(j),
          a.value(0, static_cast<int64_t>(j)) > 0 ? a.adjoint[j] : alpha * a.adjoint[j]);
  return Status::ok();
}

/// f'(x), the row's slope (σ: σ(x)·(1 - σ(x))).
template <gamma_scalar_fn F> Status gradScalar(const GradArgs &a) {
  for (size_t j = 0; j < a.adjoint.size(); ++j)
    a.add(0, static_cast<int64_t>(j),
          a.adjoint[j] * gamma_scalar_slope(F, a.value(0, static_cast<int64_t>(j))));
  return Status::ok();
}

template <OpKind K> Graph unaryInstance(std::mt19937_64 &rng) {
  return instanceOf(rng, K, {TensorType{randomShape(rng)}}, {false});
}

/// x of a random shape and α in [0, 1] (0, 1 and ONNX's default 0.01 among
/// them).
Graph leakyInstance(std::mt19937_64 &rng) {
  static const float picks[] = {0.0f, 0.01f, 0.2f, 0.5f, 1.0f};
  float alpha = std::uniform_int_distribution<int>(0, 5)(rng) < 5
                    ? picks[std::uniform_int_distribution<int>(0, 4)(rng)]
                    : std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
  Graph g;
  g.name = "leaky_relu_instance";
  TensorType t{randomShape(rng)};
  ValueId x = g.addInput("x0", t);
  ValueId a = g.addConst("alpha", TensorType{{}}, {alpha});
  ValueId r = g.addOp(OpKind::LeakyRelu, {x, a}, t, {});
  g.values[r].name = "y";
  g.outputs = {r};
  return g;
}

/// The record of a function of the scalar table (abi/ScalarRelax.h): its
/// own evaluation in f32 and f64; interval, CROWN lines and gradient from the
/// table's row.
template <gamma_scalar_fn F, OpKind K>
constexpr OpRecord scalarRecord(EvalFn<float> eval, EvalFn<double> eval64) {
  return {
      .shape = sameShape,
      .eval = eval,
      .eval64 = eval64,
      .interval = intervalScalar<F>,
      .instance = unaryInstance<K>,
      .crown = crownScalar<F>,
      .tighten = CrownTighten::All,
      .grad = gradScalar<F>,
  };
}

} // namespace

extern const OpRecord kLeakyReluRecord = {
    .shape = sameShape,
    .eval = evalLeakyRelu<float>,
    .eval64 = evalLeakyRelu<double>,
    .interval = intervalLeakyRelu,
    .instance = leakyInstance,
    .crown = crownLeakyRelu,
    .tighten = CrownTighten::Unstable,
    .grad = gradLeakyRelu,
};

namespace {

// --- max of two activations ------------------------------------------------

Expected<TensorType> maxShape(const ShapeArgs &a) {
  if (a.operands[0].shape != a.operands[1].shape)
    return shapeError(fmt::format("max of {} and {}: the operands need one shape",
                                  shapeStr(a.operands[0].shape), shapeStr(a.operands[1].shape)));
  return a.operands[0];
}

template <class T> void evalMax(const EvalArgs<T> &a) {
  int64_t n = a.g.type(a.op.result).numel();
  for (int64_t i = 0; i < n; ++i)
    a.out[i] = a.in[0][i] < a.in[1][i] ? a.in[1][i] : a.in[0][i];
}

/// [max(la, lb), max(ua, ub)]: exact.
Status intervalMax(const IntervalArgs &a) {
  int64_t n = a.g.type(a.op.result).numel();
  for (int64_t i = 0; i < n; ++i) {
    a.outLo[i] = std::max(a.lo[0][i], a.lo[1][i]);
    a.outHi[i] = std::max(a.hi[0][i], a.hi[1][i]);
  }
  return Status::ok();
}

/// max(a, b) = a + relu(d), d = b - a in [ld, ud] = [lb - ua, ub - la]
/// (rounded outward): CROWN's ReLU relaxation of d. d >= 0: y = b; d <= 0:
/// y = a; otherwise the lower line is one operand (b if ud > -ld, the
/// adaptive slope; DeepPoly's MaxPool transformer, Singh et al. POPL 2019,
/// keeps the operand of larger lower bound) and the upper line the chord
/// y <= (1 - s)·a + s·b + t, s = ud/(ud - ld) rounded up, t = -s·ld rounded
/// up plus 2u·|1 - s|·m_a for the rounding of the coefficient 1 - s (DeepPoly
/// bounds y above by the constant max(ua, ub) instead). Charges as ReLU's:
/// λ·1 exact (γ_{F-1}), λ·s and λ·(1 - s) rounded (γ_F), the intercepts an
/// n-term sum (γ_n).
Status crownMax(CrownBackward &ctx, const Op &op) {
  const CrownMat &L = ctx.lambda();
  ValueId xa = op.operands[0], xb = op.operands[1];
  CrownBounds ba = ctx.bounds(xa), bb = ctx.bounds(xb);
  const int64_t n = ba.lo.size();
  CrownMat La = CrownMat::Zero(L.rows(), n), Lb = CrownMat::Zero(L.rows(), n);
  CrownVec ma = ba.mag(), mb = bb.mag();
  CrownVec &err = ctx.err();
  const double gProdA = ctx.termGamma(xa, 1), gExactA = ctx.termGamma(xa, 0);
  const double gProdB = ctx.termGamma(xb, 1), gExactB = ctx.termGamma(xb, 0);
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownReluSum);
  CrownVec csum = CrownVec::Zero(L.rows());
  for (int64_t i = 0; i < n; ++i) {
    const MaxLines m = maxLines(ba.lo[i], ba.hi[i], bb.lo[i], bb.hi[i]);
    if (m.stableA || m.stableB) {
      CrownMat &Lx = m.stableB ? Lb : La;
      Lx.col(i) = L.col(i);
      err += (m.stableB ? gExactB * mb[i] : gExactA * ma[i]) * L.col(i).cwiseAbs();
      continue;
    }
    const double s = m.s, ca = m.ca, t = m.t;
    const bool takeB = m.takeB;
    for (int64_t r = 0; r < L.rows(); ++r) {
      double lamv = L(r, i);
      if (lamv >= 0) {
        (takeB ? Lb : La)(r, i) = lamv;
        err[r] += (takeB ? gExactB * mb[i] : gExactA * ma[i]) * std::fabs(lamv);
      } else {
        La(r, i) = lamv * ca;
        Lb(r, i) = lamv * s;
        csum[r] += lamv * t;
        err[r] += gProdA * std::fabs(lamv * ca) * ma[i] + gProdB * std::fabs(lamv * s) * mb[i] +
                  gSum * std::fabs(lamv * t);
      }
    }
  }
  ctx.addConstant(csum);
  ctx.accumulate(xa, La);
  ctx.accumulate(xb, Lb);
  return Status::ok();
}

/// The adjoint goes to the larger operand (to a at a tie).
Status gradMax(const GradArgs &a) {
  for (size_t j = 0; j < a.adjoint.size(); ++j) {
    int64_t i = static_cast<int64_t>(j);
    a.add(a.value(0, i) < a.value(1, i) ? 1 : 0, i, a.adjoint[j]);
  }
  return Status::ok();
}

/// One input x: max(x, -x), max(x, x·C) or max(x + C, x·C) (random C per
/// element): stable and unstable elements, compilable (one graph input).
Graph maxInstance(std::mt19937_64 &rng) {
  Shape s = randomShape(rng);
  TensorType t{s};
  Graph g;
  g.name = "max_instance";
  ValueId x = g.addInput("x", t);
  int form = std::uniform_int_distribution<int>(0, 2)(rng);
  ValueId a = x, b;
  if (form == 0) {
    b = g.addOp(OpKind::Neg, {x}, t);
  } else {
    ValueId c = g.addConst("c", t, randomData(rng, t.numel()));
    b = g.addOp(OpKind::Mul, {x, c}, t);
    if (form == 2) {
      ValueId c2 = g.addConst("c2", t, randomData(rng, t.numel()));
      a = g.addOp(OpKind::Add, {x, c2}, t);
    }
  }
  ValueId out = g.addOp(OpKind::Max, {a, b}, t);
  g.values[out].name = "y";
  g.outputs = {out};
  return g;
}

} // namespace

extern const OpRecord kMaxRecord = {
    .shape = maxShape,
    .eval = evalMax<float>,
    .eval64 = evalMax<double>,
    .interval = intervalMax,
    .instance = maxInstance,
    .crown = crownMax,
    .grad = gradMax,
};

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
extern const OpRecord kSigmoidRecord =
    scalarRecord<GAMMA_SCALAR_SIGMOID, OpKind::Sigmoid>(evalSigmoid<float>, evalSigmoid<double>);
extern const OpRecord kSoftplusRecord =
    scalarRecord<GAMMA_SCALAR_SOFTPLUS, OpKind::Softplus>(evalSoftplus<float>, evalSoftplus<double>);
extern const OpRecord kTanhRecord =
    scalarRecord<GAMMA_SCALAR_TANH, OpKind::Tanh>(evalTanh<float>, evalTanh<double>);
extern const OpRecord kExpRecord =
    scalarRecord<GAMMA_SCALAR_EXP, OpKind::Exp>(evalExp<float>, evalExp<double>);

} // namespace gma::ir

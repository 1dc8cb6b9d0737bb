//===- ir/ops/Linear.cpp - matmul, affine ---------------------------------===//
//
// Linear maps. The interval rule of affine/matmul-by-constant is the
// centre/radius form c ± |W|·r summed in double with a margin for its
// rounding (docs/soundness.md, "affine"); a matmul of two activations takes
// the interval product term by term.
//
//===----------------------------------------------------------------------===//
#include "ir/CrownRule.h"
#include "ir/Rounding.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace gma::ir {
using namespace ops;
namespace {

Expected<TensorType> matmulShape(const ShapeArgs &args) {
  const TensorType &a = args.operands[0], &b = args.operands[1];
  if (a.rank() == 0 || b.rank() == 0)
    return shapeError("matmul operands must have rank >= 1");
  Shape sa = a.shape, sb = b.shape;
  bool dropM = false, dropN = false;
  if (sa.size() == 1) {
    sa.insert(sa.begin(), 1);
    dropM = true;
  }
  if (sb.size() == 1) {
    sb.push_back(1);
    dropN = true;
  }
  int64_t k1 = sa.back(), k2 = sb[sb.size() - 2];
  if (k1 != k2)
    return shapeError(fmt::format("matmul contraction sizes differ: {} x {}", shapeStr(a.shape),
                                  shapeStr(b.shape)));
  Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  auto batch = broadcastShapes(batchA, batchB);
  if (!batch)
    return batch.takeError();
  Shape r = *batch;
  if (!dropM)
    r.push_back(sa[sa.size() - 2]);
  if (!dropN)
    r.push_back(sb.back());
  return TensorType{r};
}

Expected<TensorType> affineShape(const ShapeArgs &args) {
  const TensorType &x = args.operands[0], &w = args.operands[1], &b = args.operands[2];
  if (x.rank() < 1 || w.rank() != 2)
    return shapeError("affine needs an activation of rank >= 1 and a 2-D weight");
  auto it = args.attrs.find("transposed");
  bool transposed = it != args.attrs.end() && it->second.asInt() != 0;
  int64_t k = transposed ? w.shape[1] : w.shape[0];
  int64_t n = transposed ? w.shape[0] : w.shape[1];
  if (x.shape.back() != k)
    return shapeError(fmt::format("affine input {} does not match weight {} (transposed = {})",
                                  shapeStr(x.shape), shapeStr(w.shape), transposed ? 1 : 0));
  if (b.numel() != n || (b.rank() > 0 && b.shape.back() != n))
    return shapeError(
        fmt::format("affine bias {} does not match {} outputs", shapeStr(b.shape), n));
  Shape r = x.shape;
  r.back() = n;
  return TensorType{r};
}

template <class T> void evalMatMul(const EvalArgs<T> &a) {
  MatMulPlan p = planMatMul(a.g.type(a.op.operands[0]).shape, a.g.type(a.op.operands[1]).shape);
  for (size_t i = 0; i < p.aBase.size(); ++i) {
    T acc = 0;
    for (int64_t k = 0; k < p.K; ++k)
      acc += a.in[0][p.aBase[i] + k * p.aStride] * a.in[1][p.bBase[i] + k * p.bStride];
    a.out[i] = acc;
  }
}

template <class T> void evalAffine(const EvalArgs<T> &a) {
  const Shape &rs = a.g.type(a.op.result).shape;
  bool tr = a.op.intAttr("transposed") != 0;
  int64_t n = a.g.type(a.op.result).numel();
  int64_t N = rs.back(), K = a.g.type(a.op.operands[0]).shape.back(), rows = n / N;
  const T *x = a.in[0], *W = a.in[1], *bias = a.in[2];
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t j = 0; j < N; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += x[row * K + k] * (tr ? W[j * K + k] : W[k * N + j]);
      a.out[row * N + j] = acc + bias[j];
    }
}

/// Affine and matmul: each output is Σ_k x[k]·w[k] (+ bias) with one side an
/// interval and the other a constant (or, for matmul, both intervals). Sums in
/// double: xc = (l + h)/2 and xr = (h - l)/2 round once each, w·xc once more;
/// K - 1 adds and the two of c + b ± a follow, so every term carries at most
/// K + 3 roundings: error <= γ_{K+3}·mag < (K + 4)·2^-53·mag (L1, L2), plus
/// the folding error the passes recorded (ulp_error, docs/ir.md).
Status intervalLinear(const IntervalArgs &a) {
  const Graph &g = a.g;
  const Op &op = a.op;
  const Shape &rs = g.type(op.result).shape;
  int64_t n = g.type(op.result).numel();
  bool c0 = g.isConstant(op.operands[0]), c1 = g.isConstant(op.operands[1]);
  int64_t K;
  std::vector<int64_t> xBase, wBase;
  int64_t xStride, wStride;
  const float *bias = nullptr;
  int xi = 0, wi = 1; // operand index of the interval side and the weight side
  if (op.kind == OpKind::Affine) {
    bool tr = op.intAttr("transposed") != 0;
    K = g.type(op.operands[0]).shape.back();
    int64_t N = rs.back(), rows = n / N;
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t j = 0; j < N; ++j) {
        xBase.push_back(row * K);
        wBase.push_back(tr ? j * K : j);
      }
    xStride = 1;
    wStride = tr ? 1 : N;
    bias = a.lo[2];
  } else {
    MatMulPlan p = planMatMul(g.type(op.operands[0]).shape, g.type(op.operands[1]).shape);
    K = p.K;
    if (c0 && !c1) {
      xi = 1;
      wi = 0;
      xBase = p.bBase;
      xStride = p.bStride;
      wBase = p.aBase;
      wStride = p.aStride;
    } else {
      xBase = p.aBase;
      xStride = p.aStride;
      wBase = p.bBase;
      wStride = p.bStride;
    }
  }
  bool bothIntervals = op.kind == OpKind::MatMul && !c0 && !c1;
  double ulpError = static_cast<double>(op.intAttr("ulp_error"));
  const float *const *L = a.lo, *const *H = a.hi;
  for (int64_t i = 0; i < n; ++i) {
    double lo = 0, hi = 0, mag = 0;
    if (bothIntervals) {
      for (int64_t k = 0; k < K; ++k) {
        double pl, ph;
        intervalMul(L[xi][xBase[i] + k * xStride], H[xi][xBase[i] + k * xStride],
                    L[wi][wBase[i] + k * wStride], H[wi][wBase[i] + k * wStride], pl, ph);
        lo += pl;
        hi += ph;
        mag += std::max(std::fabs(pl), std::fabs(ph));
      }
    } else {
      double c = 0, r = 0;
      for (int64_t k = 0; k < K; ++k) {
        double xl = L[xi][xBase[i] + k * xStride], xh = H[xi][xBase[i] + k * xStride];
        double w = L[wi][wBase[i] + k * wStride];
        double xc = 0.5 * (xl + xh), xr = 0.5 * (xh - xl);
        c += w * xc;
        r += std::fabs(w) * xr;
        mag += std::fabs(w) * (std::fabs(xc) + xr);
      }
      lo = c - r;
      hi = c + r;
    }
    double bv = bias ? bias[i % rs.back()] : 0.0;
    linearEnclosure(lo, hi, bv, mag + std::fabs(bv), K, ulpError, a.outLo[i], a.outHi[i]);
  }
  return Status::ok();
}

int64_t dim(std::mt19937_64 &rng) { return std::uniform_int_distribution<int64_t>(1, 5)(rng); }

Graph matmulInstance(std::mt19937_64 &rng) {
  // [B.., M, K] x [K, N] with the weight constant on either side, or two
  // activations; rank-1 operands now and then.
  int64_t M = dim(rng), K = dim(rng), N = dim(rng);
  int form = std::uniform_int_distribution<int>(0, 3)(rng);
  if (form == 0)
    return instanceOf(rng, OpKind::MatMul, {TensorType{{K}}, TensorType{{K, N}}}, {false, true});
  if (form == 1)
    return instanceOf(rng, OpKind::MatMul, {TensorType{{M, K}}, TensorType{{K, N}}},
                      {true, false});
  if (form == 2)
    return instanceOf(rng, OpKind::MatMul, {TensorType{{2, M, K}}, TensorType{{K, N}}},
                      {false, false});
  return instanceOf(rng, OpKind::MatMul, {TensorType{{M, K}}, TensorType{{K, N}}}, {false, true});
}

Graph affineInstance(std::mt19937_64 &rng) {
  int64_t K = dim(rng), N = dim(rng);
  bool tr = std::bernoulli_distribution(0.5)(rng);
  Shape x = randomShape(rng, 0, 2);
  x.push_back(K);
  Attrs attrs;
  attrs["transposed"] = Attribute::scalar(tr ? 1 : 0);
  return instanceOf(rng, OpKind::Affine,
                    {TensorType{x}, TensorType{tr ? Shape{N, K} : Shape{K, N}}, TensorType{{N}}},
                    {false, true, true}, attrs);
}

/// affine, and matmul by a constant right-hand weight: Λx = Λy·Wᵀ (per row of
/// the leading dims), c += Λy·b. Λx[k] sums N rounded products λ_n·W[k,n] and
/// the terms of x's other consumers: γ_F·Σ_n |λ_n|·|W[k,n]|, times m_x[k]
/// summed over k, is γ_F·|λ|·q with q[n] = Σ_k |W[k,n]|·m_x[k]. The bias dot
/// product has N rounded products: γ_N·|λ|·|b|. The folding error the passes
/// recorded (ulp_error, docs/ir.md) is charged on both.
Status crownLinear(CrownBackward &ctx, const Op &op) {
  const Graph &g = ctx.graph();
  if (op.kind == OpKind::MatMul &&
      (!g.isConstant(op.operands[1]) || g.type(op.operands[1]).rank() != 2 ||
       g.type(op.operands[0]).rank() < 1))
    return crownUnsupported(op);
  const CrownMat &L = ctx.lambda();
  const Shape &rs = g.type(op.result).shape;
  ValueId x = op.operands[0];
  const Weight *w = g.constant(op.operands[1]);
  bool tr = op.kind == OpKind::Affine && op.intAttr("transposed") != 0;
  int64_t K = g.type(x).shape.back(), N = rs.back(), rowsX = g.type(x).numel() / K;
  CrownMat W(K, N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      W(k, n) = tr ? w->at(n * K + k) : w->at(k * N + n);
  CrownVec bias = CrownVec::Zero(N);
  if (op.kind == OpKind::Affine)
    for (int64_t n = 0; n < N; ++n)
      bias[n] = g.constant(op.operands[2])->at(n);
  CrownMat absW = W.cwiseAbs();
  CrownVec mx = ctx.bounds(x).mag();
  CrownMat Lx(L.rows(), rowsX * K);
  double ulp = static_cast<double>(op.intAttr("ulp_error")) * 0x1p-24;
  const double chargeA = chargeOn(RoundingCharge::CrownAffine);
  const double gq = (ctx.termGamma(x, 1) + ulp) * chargeA, gb = (gammaBound(N) + ulp) * chargeA;
  for (int64_t row = 0; row < rowsX; ++row) {
    auto Lr = L.middleCols(row * N, N);
    Lx.middleCols(row * K, K) = Lr * W.transpose();
    CrownVec q = absW.transpose() * mx.segment(row * K, K);
    CrownMat absLr = Lr.cwiseAbs();
    ctx.err() += absLr * (gq * q + gb * bias.cwiseAbs());
    ctx.addConstant(Lr * bias);
  }
  ctx.accumulate(x, Lx);
  return Status::ok();
}

/// d/dx of x·W (+ b): the adjoint times Wᵀ, per row of the leading dims.
Status gradLinear(const GradArgs &a) {
  const Graph &g = a.g;
  const Op &op = a.op;
  if (op.kind == OpKind::MatMul &&
      (!g.isConstant(op.operands[1]) || g.type(op.operands[1]).rank() != 2))
    return Error(ErrorCode::IrVerify, "the gradient supports matmul with a constant 2-D weight only");
  const Shape &rs = g.type(op.result).shape;
  ValueId xv = op.operands[0];
  const Weight *w = g.constant(op.operands[1]);
  bool tr = op.kind == OpKind::Affine && op.intAttr("transposed") != 0;
  int64_t K = g.type(xv).shape.back(), N = rs.back(), rows = g.type(xv).numel() / K;
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t k = 0; k < K; ++k) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n)
        acc += a.adjoint[row * N + n] * (tr ? w->at(n * K + k) : w->at(k * N + n));
      a.add(0, row * K + k, acc);
    }
  return Status::ok();
}

/// The activation operand of affine/matmul gets N terms per coefficient.
int64_t linearTerms(const Graph &g, const Op &op, size_t k) {
  const Shape &rs = g.type(op.result).shape;
  return k == 0 ? (rs.empty() ? 1 : rs.back()) : 1;
}

} // namespace

extern const OpRecord kMatMulRecord = {
    .shape = matmulShape,
    .eval = evalMatMul<float>,
    .eval64 = evalMatMul<double>,
    .interval = intervalLinear,
    .instance = matmulInstance,
    .crown = crownLinear,
    .crownTerms = linearTerms,
    .grad = gradLinear,
};
extern const OpRecord kAffineRecord = {
    .shape = affineShape,
    .eval = evalAffine<float>,
    .eval64 = evalAffine<double>,
    .interval = intervalLinear,
    .instance = affineInstance,
    .crown = crownLinear,
    .crownTerms = linearTerms,
    .grad = gradLinear,
};

} // namespace gma::ir

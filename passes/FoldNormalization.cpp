//===- passes/FoldNormalization.cpp - Fold input normalisation ------------===//
//
// For each affine op, or matmul by a constant [K, N] weight, in schedule order:
// 1. Walk back from its activation through values with exactly one user: view
//    ops, and `add/sub/mul/div` with one constant operand (the activation first
//    for sub and div) that do not broadcast the activation to a larger shape.
// 2. Check that each such constant is per feature: broadcast to the activation
//    and flattened, element j equals element j mod K. Views keep the row-major
//    order, so flat index j reaches the affine op as feature j mod K.
// 3. Compose the chain into one map x -> a_k·x + c_k per feature, in double,
//    tracking a bound on the rounding error of a_k and c_k (each step adds the
//    exact fma/TwoSum residual of its one rounding).
// 4. W'[k,n] = a_k·W[k,n] and b'[n] = b[n] + Σ_k c_k·W[k,n], in double, rounded
//    to nearest f32. The ulp_error E is the smallest integer with
//      |W' - W'_exact| <= E·2^-24·|W'|  and  |b' - b'_exact| <= E·2^-24·|b'|
//    for every entry, where the errors on the right are: the f32 rounding
//    |W' - d|, the exact error of each double product (fma residual) and each
//    double addition (TwoSum), the propagated error of a_k and c_k, and the
//    target's own ulp_error E0 (|W - W_exact| <= E0·u·|W|, so it adds
//    E0·u·|a_k·W| to a weight and E0·u·(|b| + Σ_k |c_k·W|) to a bias). This
//    refines the a-priori bound E_bias = ceil((K+2)·2^-53·Σ_k|c_k·W[k,n]| /
//    (2^-24·|b'[n]|)) + 1 by measuring each rounding instead of bounding it:
//    E is 0 when the fold is exact, as for a mean shift by short binary
//    fractions, and at most 1 + (a few double ulps) otherwise.
// 5. If every entry is a normal f32 (or zero) and E <= 64, the op becomes
//    `affine %x, %W', %b'` (matmul: `transposed = 0`, weight kept in its
//    layout otherwise), the normalisation ops are bypassed and erased, and the
//    views between stay, now reading the raw input.
//
//===----------------------------------------------------------------------===//
#include "passes/FoldNormalization.h"

#include "passes/PassUtils.h"
#include "passes/UlpError.h"

#include <algorithm>
#include <cmath>

namespace gma::passes {
namespace {

using namespace ir;

/// x -> a·x + c per feature, with bounds on the rounding error of a and c.
struct FeatureMap {
  std::vector<double> a, errA, c, errC;
  explicit FeatureMap(int64_t K) : a(K, 1.0), errA(K, 0.0), c(K, 0.0), errC(K, 0.0) {}

  /// Applies `kind` with the per-feature constant C to the map.
  void apply(OpKind kind, const std::vector<double> &C) {
    for (size_t k = 0; k < a.size(); ++k) {
      double v = C[k], av = std::fabs(v);
      switch (kind) {
      case OpKind::Add:
      case OpKind::Sub: {
        double rhs = kind == OpKind::Add ? v : -v;
        errC[k] = addUp(errC[k], sumError(c[k], rhs));
        c[k] += rhs;
        break;
      }
      case OpKind::Mul:
        errA[k] = addUp(mulUp(errA[k], av), productError(a[k], v));
        errC[k] = addUp(mulUp(errC[k], av), productError(c[k], v));
        a[k] *= v;
        c[k] *= v;
        break;
      default: { // Div: x/C - q = fma(-q, C, x) / C exactly.
        double qa = a[k] / v, qc = c[k] / v;
        errA[k] = addUp(divUp(errA[k], av), divUp(std::fabs(std::fma(-qa, v, a[k])), av));
        errC[k] = addUp(divUp(errC[k], av), divUp(std::fabs(std::fma(-qc, v, c[k])), av));
        a[k] = qa;
        c[k] = qc;
        break;
      }
      }
    }
  }
};

/// The per-feature values of the constant operand of normalisation op `op`,
/// or nothing if it is not per feature for K features.
std::optional<std::vector<double>> perFeature(const Graph &g, const Op &op, int constIdx,
                                              int64_t K) {
  const Weight &w = *g.constant(op.operands[constIdx]);
  const Shape &shape = g.type(op.result).shape;
  auto idx = broadcastIndex(w.type().shape, shape);
  if (idx.size() % static_cast<size_t>(K) != 0)
    return std::nullopt;
  std::vector<double> C(static_cast<size_t>(K));
  for (size_t j = 0; j < idx.size(); ++j) {
    float v = w.at(idx[j]);
    if (j < static_cast<size_t>(K))
      C[j] = v;
    else if (v != C[j % K])
      return std::nullopt;
  }
  return C;
}

/// Whether `op` is a normalisation step; returns its constant operand index.
std::optional<int> normalisationConst(const Graph &g, const Op &op) {
  if (op.kind != OpKind::Add && op.kind != OpKind::Sub && op.kind != OpKind::Mul &&
      op.kind != OpKind::Div)
    return std::nullopt;
  std::optional<int> c = constOperandIndex(g, op);
  if (!c)
    return std::nullopt;
  if (*c == 0 && !hasTrait(op.kind, kCommutative))
    return std::nullopt;
  if (g.type(op.operands[1 - *c]) != g.type(op.result))
    return std::nullopt;
  return c;
}

/// Tries to fold the normalisation feeding the affine or matmul op at `i`.
void foldInto(Rewriter &rw, size_t i) {
  Graph &g = rw.graph();
  const Op &target = g.ops[i];
  const bool isMatMul = target.kind == OpKind::MatMul;
  const Weight &W = *g.constant(target.operands[1]);
  const bool transposed = !isMatMul && target.intAttr("transposed") != 0;
  const int64_t K = transposed ? W.type().shape[1] : W.type().shape[0];
  const int64_t N = transposed ? W.type().shape[0] : W.type().shape[1];

  // 1-2. The chain, from the target's operand backwards.
  struct Step {
    size_t op;
    int constIdx;
    std::vector<double> C;
  };
  std::vector<Step> steps;
  for (ValueId v = target.operands[0]; rw.hasOneOpUse(v);) {
    const Op *d = g.defOp(v);
    if (!d)
      break;
    size_t di = static_cast<size_t>(g.values[v].def);
    if (hasTrait(d->kind, kView)) {
      v = d->operands[0];
      continue;
    }
    std::optional<int> c = normalisationConst(g, *d);
    if (!c)
      break;
    std::optional<std::vector<double>> C = perFeature(g, *d, *c, K);
    if (!C)
      break;
    steps.push_back({di, *c, std::move(*C)});
    v = d->operands[1 - *c];
  }
  if (steps.empty())
    return;

  // 3. Compose in schedule order.
  FeatureMap map(K);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it)
    map.apply(g.ops[it->op].kind, it->C);

  // 4. Folded weights and their ulp_error.
  const Shape wShape = W.type().shape;
  const double e0u = static_cast<double>(target.intAttr("ulp_error")) * kU24;
  std::vector<float> newW(static_cast<size_t>(K * N));
  double ratio = 0;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      double w = affineWeightAt(W, transposed, k, n);
      double d = map.a[k] * w;
      float f = static_cast<float>(d);
      if (!isUsableF32(f))
        return;
      double err = addUp(addUp(std::fabs(f - d), productError(map.a[k], w)),
                         addUp(mulUp(map.errA[k], std::fabs(w)),
                               mulUp(e0u, mulUp(std::fabs(map.a[k]), std::fabs(w)))));
      ratio = std::max(ratio, ulpRatio(err, f));
      newW[static_cast<size_t>(transposed ? n * K + k : k * N + n)] = f;
    }
  const Weight *B = isMatMul ? nullptr : g.constant(target.operands[2]);
  std::vector<float> newB(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    double b = B ? B->at(n) : 0.0;
    double sum = b, sumErr = 0, prodErr = 0, propErr = 0, absTerms = std::fabs(b);
    for (int64_t k = 0; k < K; ++k) {
      double w = affineWeightAt(W, transposed, k, n);
      double p = map.c[k] * w;
      sumErr = addUp(sumErr, sumError(sum, p));
      sum += p;
      prodErr = addUp(prodErr, productError(map.c[k], w));
      propErr = addUp(propErr, mulUp(map.errC[k], std::fabs(w)));
      absTerms = addUp(absTerms, mulUp(std::fabs(map.c[k]), std::fabs(w)));
    }
    propErr = addUp(propErr, mulUp(e0u, absTerms));
    float f = static_cast<float>(sum);
    if (!isUsableF32(f))
      return;
    double err = addUp(addUp(std::fabs(f - sum), sumErr), addUp(prodErr, propErr));
    ratio = std::max(ratio, ulpRatio(err, f));
    newB[static_cast<size_t>(n)] = f;
  }
  int64_t ulpError = ulpCeil(ratio);
  if (ulpError > kMaxUlpError)
    return;

  // 5. Rewrite. newConst appends to g.ops: hold ids, not references.
  ValueId x = target.operands[0];
  TensorType bType = B ? B->type() : TensorType{{N}};
  std::string loc = target.loc;
  ValueId wv = rw.newConst(TensorType{wShape}, std::move(newW), loc);
  ValueId bv = rw.newConst(bType, std::move(newB), loc);
  rw.setOperands(i, {x, wv, bv});
  Op &op = g.ops[i];
  op.kind = OpKind::Affine;
  op.attrs["transposed"] = Attribute::scalar(transposed ? 1 : 0);
  if (ulpError > 0)
    op.attrs["ulp_error"] = Attribute::scalar(ulpError);
  for (const Step &s : steps) {
    const Op &norm = g.ops[s.op];
    ValueId result = norm.result;
    rw.replaceAllUsesWith(result, norm.operands[1 - s.constIdx]);
    rw.erase(s.op);
  }
}

} // namespace

bool foldNormalization(Graph &g) {
  Rewriter rw(g);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op &op = g.ops[i];
    if (op.erased)
      continue;
    if (op.kind == OpKind::Affine || isMatMulByConstant(g, op))
      foldInto(rw, i);
  }
  return rw.finish();
}

} // namespace gma::passes

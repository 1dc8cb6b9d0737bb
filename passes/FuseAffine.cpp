//===- passes/FuseAffine.cpp - Form and merge affine ops ------------------===//
//
// One forward sweep; each rewrite looks backwards from the op it is at, so a
// chain matmul -> add -> matmul -> add collapses as the sweep passes it.
// At op i:
// 1. A matmul by a constant [K, N] weight becomes an affine op with a zero
//    bias, in place. Exact. So does a constant [M, K] matrix times a vector
//    x of shape [K] (W @ x, as some exporters write it): that is
//    `affine x, W, 0 {transposed = 1}`.
// 2. An add (or sub, constant second) of a constant that is per output
//    (broadcast to the result, element j depends on j mod N only) whose other
//    operand is an affine op used only here: op i becomes that affine op with
//    bias b' = fl32(b ± C). With TwoSum's exact error e of the double sum and
//    the affine's previous ulp_error E0 (|b - b_exact| <= E0·u·|b|, u = 2^-24):
//        E = max(E0, ceil(max_n (|b' - s| + |e| + E0·u·|b|) / (u·|b'|))).
//    For E0 = 0 this is the "+1" of rounding one sum, and 0 when exact.
// 3. An affine op A2 whose input is another affine op A1 (used only here),
//    possibly through views that keep the last axis, merges with it when
//    K1·N2 <= K1·N1 + N1·N2, into W = W1·W2 and b = b1·W2 + b2 computed in
//    double. ulp_error E_i means |W_i - W_i,exact| <= E_i·u·|W_i| elementwise
//    (and the same for b_i), so with P = |W1|·|W2|,
//        |W1·W2 - W_exact| <= (E1 + E2 + E1·E2·u)·u·P.
//    Adding the exact error S of the double dot product (products of f32 are
//    exact in double; TwoSum gives each addition's error) and the f32
//    rounding |W' - d|, each entry needs
//        (|W' - d| + S + (E1 + E2 + E1·E2·u)·u·P) / (u·|W'|)
//    and each bias entry the same with P = |b1|·|W2| (plus E2·u·|b2|). E is
//    the ceiling of the largest ratio, at most about ceil(R·(E1 + E2)) + 1
//    with R = max P / |W'|. This is tighter than the a-priori
//    ceil(R·(E1 + E2 + K1 + K2 + 4)) + 2, whose K terms bound f32
//    accumulation, which ulp_error does not cover (IBP adds its own
//    (K + 4)·2^-53 margin, docs/soundness.md). A zero W' entry with a nonzero
//    P gives R = ∞: the merge is skipped, as it is when E > 64.
//    The merged weight is [K1, N2] with transposed = 0. If the views between
//    changed the leading dimensions, A1 becomes the merged op and A2 a reshape.
//
//===----------------------------------------------------------------------===//
#include "passes/FuseAffine.h"

#include "passes/PassUtils.h"
#include "passes/UlpError.h"

#include <algorithm>
#include <cmath>

namespace gma::passes {
namespace {

using namespace ir;

/// The [K, N] view of an affine op's operands.
struct AffineParts {
  const Weight *W, *b;
  bool transposed;
  int64_t K, N, ulpError;

  AffineParts(const Graph &g, const Op &op)
      : W(g.constant(op.operands[1])), b(g.constant(op.operands[2])),
        transposed(op.intAttr("transposed") != 0), K(W->type().shape[transposed ? 1 : 0]),
        N(W->type().shape[transposed ? 0 : 1]), ulpError(op.intAttr("ulp_error")) {}
  double w(int64_t k, int64_t n) const { return affineWeightAt(*W, transposed, k, n); }
};

void setUlpError(Op &op, int64_t e) {
  if (e > 0)
    op.attrs["ulp_error"] = Attribute::scalar(e);
  else
    op.attrs.erase("ulp_error");
}

// Step 1: op i, a matmul of activation `x` and constant weight `w` with
// `outputs` columns, becomes `affine x, w, 0 {transposed}`.
void matmulToAffine(Rewriter &rw, size_t i, ValueId x, ValueId w, int64_t outputs,
                    bool transposed) {
  Graph &g = rw.graph();
  ValueId zero = rw.newConst(TensorType{{outputs}},
                             std::vector<float>(static_cast<size_t>(outputs), 0.0f), g.ops[i].loc);
  rw.setOperands(i, {x, w, zero});
  g.ops[i].kind = OpKind::Affine;
  g.ops[i].attrs["transposed"] = Attribute::scalar(transposed ? 1 : 0);
}

/// A constant 2-D matrix times a vector activation: matmul(W [M, K], x [K]).
bool isConstantMatrixTimesVector(const Graph &g, const Op &op) {
  if (op.kind != OpKind::MatMul)
    return false;
  const Weight *w = g.constant(op.operands[0]);
  return w && w->type().rank() == 2 && !g.isConstant(op.operands[1]) &&
         g.type(op.operands[1]).rank() == 1;
}

// Step 2.
void foldBias(Rewriter &rw, size_t i) {
  Graph &g = rw.graph();
  const Op &op = g.ops[i];
  if (op.kind != OpKind::Add && op.kind != OpKind::Sub)
    return;
  std::optional<int> c = constOperandIndex(g, op);
  if (!c || (op.kind == OpKind::Sub && *c != 1))
    return;
  ValueId act = op.operands[1 - *c];
  const Op *aff = g.defOp(act);
  if (!aff || aff->kind != OpKind::Affine || !rw.hasOneOpUse(act) ||
      g.type(act) != g.type(op.result))
    return;
  AffineParts A(g, *aff);
  const Weight &C = *g.constant(op.operands[*c]);
  auto idx = broadcastIndex(C.type().shape, g.type(op.result).shape);
  for (size_t j = 0; j < idx.size(); ++j)
    if (C.at(idx[j]) != C.at(idx[j % A.N]))
      return;

  const double sign = op.kind == OpKind::Sub ? -1.0 : 1.0;
  const double e0u = static_cast<double>(A.ulpError) * kU24;
  std::vector<float> bias(static_cast<size_t>(A.N));
  double ratio = static_cast<double>(A.ulpError);
  for (int64_t n = 0; n < A.N; ++n) {
    double b = A.b->at(n), rhs = sign * C.at(idx[n]);
    double s = b + rhs;
    float f = static_cast<float>(s);
    if (!isUsableF32(f))
      return;
    double err = addUp(addUp(std::fabs(f - s), sumError(b, rhs)), mulUp(e0u, std::fabs(b)));
    ratio = std::max(ratio, ulpRatio(err, f));
    bias[static_cast<size_t>(n)] = f;
  }
  int64_t e = ulpCeil(ratio);
  if (e > kMaxUlpError)
    return;

  // newConst appends to g.ops: copy what we need first.
  Op fused = *aff;
  size_t affIdx = static_cast<size_t>(g.values[act].def);
  ValueId b = rw.newConst(A.b->type(), std::move(bias), fused.loc);
  rw.setOperands(i, {fused.operands[0], fused.operands[1], b});
  Op &r = g.ops[i];
  r.kind = OpKind::Affine;
  r.attrs = fused.attrs;
  r.loc = fused.loc;
  setUlpError(r, e);
  rw.erase(affIdx);
}

// Step 3.
void mergeWithProducer(Rewriter &rw, size_t i) {
  Graph &g = rw.graph();
  ValueId v = g.ops[i].operands[0];
  while (rw.hasOneOpUse(v)) {
    const Op *d = g.defOp(v);
    if (!d || !hasTrait(d->kind, kView) || g.type(v).rank() == 0 ||
        g.type(d->operands[0]).rank() == 0 ||
        g.type(v).shape.back() != g.type(d->operands[0]).shape.back())
      break;
    v = d->operands[0];
  }
  const Op *first = g.defOp(v);
  if (!first || first->kind != OpKind::Affine || !rw.hasOneOpUse(v))
    return;
  AffineParts A1(g, *first), A2(g, g.ops[i]);
  const int64_t K1 = A1.K, N1 = A1.N, N2 = A2.N;
  if (K1 * N2 > K1 * N1 + N1 * N2)
    return;

  // (E1 + E2 + E1·E2·u)·u: the integer sum and the power-of-two scalings are
  // exact; only the one addition may round.
  const double e12u = addUp(static_cast<double>(A1.ulpError + A2.ulpError),
                            static_cast<double>(A1.ulpError * A2.ulpError) * kU24) *
                      kU24;
  double ratio = 0;
  std::vector<float> W(static_cast<size_t>(K1 * N2));
  for (int64_t k = 0; k < K1; ++k)
    for (int64_t n = 0; n < N2; ++n) {
      double d = 0, p = 0, sumErr = 0;
      for (int64_t m = 0; m < N1; ++m) {
        double ab = A1.w(k, m) * A2.w(m, n); // a product of two f32 is exact in double
        sumErr = addUp(sumErr, sumError(d, ab));
        d += ab;
        p = addUp(p, std::fabs(ab));
      }
      float f = static_cast<float>(d);
      if (!isUsableF32(f))
        return;
      double err = addUp(addUp(std::fabs(f - d), sumErr), mulUp(e12u, p));
      ratio = std::max(ratio, ulpRatio(err, f));
      W[static_cast<size_t>(k * N2 + n)] = f;
    }
  std::vector<float> B(static_cast<size_t>(N2));
  for (int64_t n = 0; n < N2; ++n) {
    double b2 = A2.b->at(n);
    double d = b2, p1 = 0, sumErr = 0;
    for (int64_t m = 0; m < N1; ++m) {
      double ab = A1.b->at(m) * A2.w(m, n);
      sumErr = addUp(sumErr, sumError(d, ab));
      d += ab;
      p1 = addUp(p1, std::fabs(ab));
    }
    float f = static_cast<float>(d);
    if (!isUsableF32(f))
      return;
    double err = addUp(addUp(std::fabs(f - d), sumErr),
                       addUp(mulUp(e12u, p1), mulUp(A2.ulpError * kU24, std::fabs(b2))));
    ratio = std::max(ratio, ulpRatio(err, f));
    B[static_cast<size_t>(n)] = f;
  }
  int64_t e = ulpCeil(ratio);
  if (e > kMaxUlpError)
    return;

  // Rewrite. newConst appends to g.ops: hold ids and copies, not references.
  const size_t firstIdx = static_cast<size_t>(g.values[v].def);
  const ValueId x = first->operands[0], firstResult = v;
  Attrs attrs = g.ops[i].attrs;
  attrs["transposed"] = Attribute::scalar(0);
  Shape mergedShape = g.type(x).shape;
  mergedShape.back() = N2;
  const bool sameShape = TensorType{mergedShape} == g.type(g.ops[i].result);
  const size_t at = sameShape ? i : firstIdx;
  const std::string loc = g.ops[at].loc;
  ValueId wv = rw.newConst(TensorType{{K1, N2}}, std::move(W), loc);
  ValueId bv = rw.newConst(TensorType{{N2}}, std::move(B), loc);
  rw.setOperands(at, {x, wv, bv});
  g.ops[at].attrs = attrs;
  setUlpError(g.ops[at], e);
  if (!sameShape) {
    // A1 now computes the merged map; A2 reshapes it to A2's type.
    g.values[firstResult].type = TensorType{mergedShape};
    rw.setOperands(i, {firstResult});
    g.ops[i].kind = OpKind::Reshape;
    g.ops[i].attrs.clear();
  }
}

} // namespace

bool fuseAffine(Graph &g) {
  Rewriter rw(g);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].erased)
      continue;
    if (isMatMulByConstant(g, g.ops[i])) {
      ValueId x = g.ops[i].operands[0], w = g.ops[i].operands[1];
      matmulToAffine(rw, i, x, w, g.type(w).shape[1], /*transposed=*/false);
    } else if (isConstantMatrixTimesVector(g, g.ops[i])) {
      ValueId w = g.ops[i].operands[0], x = g.ops[i].operands[1];
      matmulToAffine(rw, i, x, w, g.type(w).shape[0], /*transposed=*/true);
    }
    foldBias(rw, i);
    if (g.ops[i].kind == OpKind::Affine)
      mergeWithProducer(rw, i);
  }
  return rw.finish();
}

} // namespace gma::passes

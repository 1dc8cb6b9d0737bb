//===- passes/FoldConstants.cpp - Evaluate constant sub-graphs ------------===//
//
// 1. Sweep the schedule forward. An op whose operands are all constants is
//    evaluated in double on its operands' f32 data (numpy broadcasting and
//    matmul rules, ir/Shapes.h) and rounded to nearest f32.
// 2. The op becomes `const` of a new weight in place: it keeps its result id
//    and schedule position, so its users and the graph outputs need no update,
//    and a later op that reads it sees a constant in the same sweep.
// 3. Operand constants that nothing reads any more are erased.
//
// Rounding: data movement (reshape, identity, transpose), neg and relu are
// exact. Arithmetic (add ... div, matmul, affine, sigmoid) rounds its result to
// f32 once, so the folded graph computes with the rounded constant instead of
// the exact real value of the expression. This is the standard semantics of
// constant folding, and it is what an f32 execution of the model (the frontend's
// reference semantics) computes anyway; constant arithmetic in real models is
// limited to small weight preprocessing. Folding into *activations'* affine
// maps, where gamma must stay sound for real semantics, is the job of
// fold-normalization and fuse-affine, which record the error in ulp_error.
//
//===----------------------------------------------------------------------===//
#include "passes/FoldConstants.h"

#include "ir/Shapes.h"
#include "passes/PassUtils.h"

#include <cmath>
#include <numeric>
#include <optional>

namespace gma::passes {
namespace {

using namespace ir;

std::vector<double> elementwiseBinary(OpKind kind, const Weight &a, const Weight &b,
                                      const Shape &result) {
  auto ia = broadcastIndex(a.type().shape, result), ib = broadcastIndex(b.type().shape, result);
  std::vector<double> r(ia.size());
  for (size_t i = 0; i < r.size(); ++i) {
    double x = a.at(ia[i]), y = b.at(ib[i]);
    switch (kind) {
    case OpKind::Add:
      r[i] = x + y;
      break;
    case OpKind::Sub:
      r[i] = x - y;
      break;
    case OpKind::Mul:
      r[i] = x * y;
      break;
    default:
      r[i] = x / y;
      break;
    }
  }
  return r;
}

/// numpy matmul of two constants (1-D operands are promoted as numpy does).
std::vector<double> matmul(const Weight &a, const Weight &b, const Shape &result) {
  Shape sa = a.type().shape, sb = b.type().shape;
  if (sa.size() == 1)
    sa.insert(sa.begin(), 1);
  if (sb.size() == 1)
    sb.push_back(1);
  int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  Shape batch = *broadcastShapes(batchA, batchB);
  auto ia = broadcastIndex(batchA, batch), ib = broadcastIndex(batchB, batch);
  std::vector<double> r;
  r.reserve(static_cast<size_t>(TensorType{result}.numel()));
  for (size_t t = 0; t < ia.size(); ++t)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += static_cast<double>(a.at(ia[t] * M * K + m * K + k)) *
               b.at(ib[t] * K * N + k * N + n);
        r.push_back(s);
      }
  return r;
}

std::vector<double> affine(const Weight &x, const Weight &w, const Weight &b, bool transposed,
                           const Shape &result) {
  int64_t N = result.back(), K = x.type().shape.back();
  int64_t rows = TensorType{result}.numel() / N;
  std::vector<double> r(static_cast<size_t>(rows * N));
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = b.at(n);
      for (int64_t k = 0; k < K; ++k)
        s += static_cast<double>(x.at(m * K + k)) * affineWeightAt(w, transposed, k, n);
      r[static_cast<size_t>(m * N + n)] = s;
    }
  return r;
}

std::vector<double> transpose(const Weight &x, const Shape &result, const Attrs &attrs) {
  const Shape &in = x.type().shape;
  std::vector<int64_t> perm(in.size());
  if (auto it = attrs.find("perm"); it != attrs.end())
    perm = it->second.ints;
  else
    std::iota(perm.rbegin(), perm.rend(), 0);
  Shape inStrides = stridesOf(in), outStrides = stridesOf(result);
  int64_t n = x.numel();
  std::vector<double> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, src = 0;
    for (size_t d = 0; d < result.size(); ++d) {
      int64_t c = rem / outStrides[d];
      rem %= outStrides[d];
      src += c * inStrides[perm[d]];
    }
    r[static_cast<size_t>(i)] = x.at(src);
  }
  return r;
}

/// The value of `op` in double, if its kind can be folded.
std::optional<std::vector<double>> evaluate(const Graph &g, const Op &op) {
  std::vector<const Weight *> in;
  for (ValueId o : op.operands)
    in.push_back(g.constant(o));
  const Shape &result = g.type(op.result).shape;
  auto unary = [&](auto f) {
    std::vector<double> r = toDouble(*in[0]);
    for (double &v : r)
      v = f(v);
    return r;
  };
  switch (op.kind) {
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
    return elementwiseBinary(op.kind, *in[0], *in[1], result);
  case OpKind::Neg:
    return unary([](double v) { return -v; });
  case OpKind::Relu:
    return unary([](double v) { return v > 0 ? v : 0.0; });
  case OpKind::Sigmoid:
    return unary([](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  case OpKind::Reshape:
  case OpKind::Identity:
    return toDouble(*in[0]);
  case OpKind::Transpose:
    return transpose(*in[0], result, op.attrs);
  case OpKind::MatMul:
    return matmul(*in[0], *in[1], result);
  case OpKind::Affine:
    return affine(*in[0], *in[1], *in[2], op.intAttr("transposed") != 0, result);
  case OpKind::Const:
    return std::nullopt;
  }
  return std::nullopt;
}

} // namespace

bool foldConstants(Graph &g) {
  Rewriter rw(g);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op &op = g.ops[i];
    if (op.erased || op.kind == OpKind::Const || op.operands.empty())
      continue;
    bool allConstant = true;
    for (ValueId o : op.operands)
      allConstant = allConstant && g.isConstant(o);
    if (!allConstant)
      continue;
    std::optional<std::vector<double>> value = evaluate(g, op);
    if (!value)
      continue;
    std::vector<float> data(value->begin(), value->end());
    WeightId w = g.weights.add("", g.type(op.result), std::move(data));
    rw.setOperands(i, {});
    g.ops[i].kind = OpKind::Const;
    g.ops[i].weight = w;
    g.ops[i].attrs.clear();
  }
  return rw.finish();
}

} // namespace gma::passes

//===- ir/Shapes.cpp - Result types of IR operations ----------------------===//
//
// The static shape rule of every op kind in ir/Ops.def. The frontend calls these
// while building ops; the parser and verifier use them to check printed types.
//
//===----------------------------------------------------------------------===//
#include "ir/Shapes.h"

#include <algorithm>
#include <fmt/format.h>
#include <numeric>

namespace gma::ir {
namespace {

Error shapeError(std::string msg) { return Error(ErrorCode::IrVerify, std::move(msg)); }

std::string shapeStr(const Shape &s) { return fmt::format("[{}]", fmt::join(s, ",")); }

Expected<TensorType> matmulType(const TensorType &a, const TensorType &b) {
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

Expected<TensorType> affineType(const TensorType &x, const TensorType &w, const TensorType &b,
                                const Attrs &attrs) {
  if (x.rank() < 1 || w.rank() != 2)
    return shapeError("affine needs an activation of rank >= 1 and a 2-D weight");
  auto it = attrs.find("transposed");
  bool transposed = it != attrs.end() && it->second.asInt() != 0;
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

} // namespace

Expected<Shape> broadcastShapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape r(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return shapeError(
          fmt::format("shapes {} and {} do not broadcast", shapeStr(a), shapeStr(b)));
    r[i] = da == 1 ? db : da;
  }
  return r;
}

/// For each element of `result`, the index of the element of `operand` it reads
/// under numpy broadcasting.
std::vector<int64_t> broadcastIndex(const Shape &operand, const Shape &result) {
  int64_t n = TensorType{result}.numel();
  std::vector<int64_t> idx(n);
  Shape rs = stridesOf(result), os = stridesOf(operand);
  size_t off = result.size() - operand.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, o = 0;
    for (size_t d = 0; d < result.size(); ++d) {
      int64_t c = rem / rs[d];
      rem %= rs[d];
      if (d >= off && operand[d - off] != 1)
        o += c * os[d - off];
    }
    idx[i] = o;
  }
  return idx;
}

Shape stridesOf(const Shape &shape) {
  Shape s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

Expected<TensorType> inferResultType(OpKind kind, const std::vector<TensorType> &ops,
                                     const Attrs &attrs, const TensorType *declared) {
  int expected = numOperands(kind);
  if (expected >= 0 && static_cast<int>(ops.size()) != expected)
    return shapeError(fmt::format("'{}' takes {} operands, got {}", mnemonic(kind), expected,
                                  ops.size()));
  switch (kind) {
  case OpKind::Const:
    if (!declared)
      return shapeError("const needs a declared type");
    return *declared;
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div: {
    auto s = broadcastShapes(ops[0].shape, ops[1].shape);
    if (!s)
      return s.takeError();
    return TensorType{*s};
  }
  case OpKind::Neg:
  case OpKind::Relu:
  case OpKind::Sigmoid:
  case OpKind::Identity:
    return ops[0];
  case OpKind::MatMul:
    return matmulType(ops[0], ops[1]);
  case OpKind::Affine:
    return affineType(ops[0], ops[1], ops[2], attrs);
  case OpKind::Reshape:
    if (!declared)
      return shapeError("reshape needs a declared result type");
    if (declared->numel() != ops[0].numel())
      return shapeError(fmt::format("reshape from {} to {} changes the element count",
                                    shapeStr(ops[0].shape), shapeStr(declared->shape)));
    return *declared;
  case OpKind::Transpose: {
    int64_t rank = ops[0].rank();
    std::vector<int64_t> perm;
    auto it = attrs.find("perm");
    if (it != attrs.end()) {
      perm = it->second.ints;
    } else {
      perm.resize(rank);
      std::iota(perm.rbegin(), perm.rend(), 0);
    }
    if (static_cast<int64_t>(perm.size()) != rank)
      return shapeError("transpose perm length differs from the operand rank");
    std::vector<bool> seen(rank, false);
    Shape r(rank);
    for (int64_t i = 0; i < rank; ++i) {
      if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
        return shapeError("transpose perm is not a permutation");
      seen[perm[i]] = true;
      r[i] = ops[0].shape[perm[i]];
    }
    return TensorType{r};
  }
  }
  return shapeError("unknown op kind");
}

} // namespace gma::ir

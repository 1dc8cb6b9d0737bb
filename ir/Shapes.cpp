//===- ir/Shapes.cpp - Result types of IR operations ----------------------===//
//
// Broadcasting helpers and the entry to the static shape rules, which are in
// each op's record (ir/OpRecord.h). The frontend calls inferResultType while
// building ops; the parser and verifier use it to check printed types.
//
//===----------------------------------------------------------------------===//
#include "ir/Shapes.h"

#include "ir/OpRecord.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <fmt/format.h>

namespace gma::ir {
using ops::shapeError;
using ops::shapeStr;

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
  return opRecord(kind).shape(ShapeArgs{ops, attrs, declared});
}

} // namespace gma::ir

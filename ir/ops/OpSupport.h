//===- ir/ops/OpSupport.h - Helpers shared by the op records ----*- C++ -*-===//
//
// Internal to ir/ops/: index patterns (broadcast, matmul, transpose), the
// interval product, errors, and the building blocks of random instances.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/OpRecord.h"
#include "ir/Shapes.h"

#include <string>
#include <vector>

namespace gma::ir::ops {

Error shapeError(std::string msg);
std::string shapeStr(const Shape &s);

/// An op that its interval rule cannot bound in this context.
Error cannotBound(const Op &op, const char *what);

/// The index pattern of a numpy matmul: result[i] = sum_k
/// a[aBase[i] + k·aStride] · b[bBase[i] + k·bStride].
struct MatMulPlan {
  int64_t K = 0;
  std::vector<int64_t> aBase, bBase;
  int64_t aStride = 1, bStride = 1;
};
MatMulPlan planMatMul(const Shape &a, const Shape &b);

/// The shape rule of an op whose result has its first operand's type.
Expected<TensorType> sameShape(const ShapeArgs &a);

/// The f32 enclosure of one output of a linear op (affine, matmul, conv):
/// [lo, hi] + bias computed in double from K terms whose magnitudes and the
/// bias's sum to `mag`, widened by (K + 4)·2^-53·mag for the double rounding
/// (docs/soundness.md, "affine") and ulpError·2^-24·mag for the folding
/// error the passes recorded, then rounded outward.
void linearEnclosure(double lo, double hi, double bias, double mag, int64_t K, double ulpError,
                     float &outLo, float &outHi);

/// The gradient of y = Sign·x (reshape, identity, neg).
template <int Sign> Status gradSigned(const GradArgs &a) {
  for (size_t j = 0; j < a.adjoint.size(); ++j)
    a.add(0, static_cast<int64_t>(j), Sign * a.adjoint[j]);
  return Status::ok();
}

/// For each element of a transpose's result, the operand element it copies.
std::vector<int64_t> transposeSource(const Graph &g, const Op &op);

/// The interval of a·b for intervals a, b of f32 values: exact in double
/// (products of two f32 are), NaN (0·∞) widened to the whole line.
void intervalMul(double al, double ah, double bl, double bh, double &lo, double &hi);

/// Random instances.
Shape randomShape(std::mt19937_64 &rng, int minRank = 1, int maxRank = 3, int64_t maxDim = 4);
/// Uniform in ±[floor, scale].
std::vector<float> randomData(std::mt19937_64 &rng, int64_t n, float scale = 4.0f,
                              float floor = 0.0f);
/// A graph with one op `kind` over `operands` (an input when the flag is
/// false, a random constant when true), result type by the record's shape
/// rule (or `declared`), as the graph's only output. Constants have
/// magnitudes of at least `constFloor`.
Graph instanceOf(std::mt19937_64 &rng, OpKind kind, const std::vector<TensorType> &operands,
                 const std::vector<bool> &constant, Attrs attrs = {},
                 const TensorType *declared = nullptr, float constFloor = 0.0f);

} // namespace gma::ir::ops

//===- frontend/onnx/ShapeFolding.h - Shape rules and int folding -*- C++ -*-===//
//
// Exporters compute shapes at run time: PyTorch's `x.view(x.size(0), -1)`
// becomes Shape → Gather → Unsqueeze → Concat → Reshape. gamma's shapes are
// static, so these integer sub-graphs are evaluated at import time on
// ConstTensors and never reach the IR.
//
// This file holds those evaluations (integer tensors only) and the shape rules
// of the ONNX view operators (Flatten, Reshape, Squeeze, Unsqueeze, Transpose),
// which apply to activations and constants alike. Errors carry a code but no
// location; the caller adds the node's.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/onnx/ImportContext.h"

#include <optional>
#include <vector>

namespace gma::frontend {

/// Maps an ONNX axis in [-rank, rank) to [0, rank); OnnxShapeMismatch if out
/// of range. `rank` is the rank the axis indexes (rank + 1 for Unsqueeze).
Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// Flatten: [prod(d[0:axis]), prod(d[axis:])]; axis in [-rank, rank].
Expected<ir::Shape> flattenShape(const ir::Shape &in, int64_t axis);

/// Reshape's target shape: 0 copies the input dim (unless `allowZero`), one -1
/// is inferred from the element count.
Expected<ir::Shape> reshapeShape(const ir::Shape &in, const std::vector<int64_t> &spec,
                                 bool allowZero);

/// Squeeze: drops the listed axes (which must have size 1), or every size-1
/// axis when `axes` is absent.
Expected<ir::Shape> squeezeShape(const ir::Shape &in,
                                 const std::optional<std::vector<int64_t>> &axes);

/// Unsqueeze: inserts size-1 axes at the listed positions of the result.
Expected<ir::Shape> unsqueezeShape(const ir::Shape &in, const std::vector<int64_t> &axes);

/// Transpose's permutation: `perm` checked, or the reversal when absent.
Expected<std::vector<int64_t>> transposePerm(int64_t rank,
                                             const std::optional<std::vector<int64_t>> &perm);

/// Integer transpose (perm already checked).
ConstTensor transposeInts(const ConstTensor &in, const std::vector<int64_t> &perm);

/// Gather along `axis` with integer indices (negative indices count from the end).
Expected<ConstTensor> gatherInts(const ConstTensor &data, const ConstTensor &indices, int64_t axis);

/// Concat of integer tensors along `axis`.
Expected<ConstTensor> concatInts(const std::vector<const ConstTensor *> &parts, int64_t axis);

/// Slice with ONNX's clamping rules; `axes` and `steps` may be empty.
/// ONNX Slice's starts/ends/axes/steps (negative indices, clamping, INT_MAX
/// ends) resolved per dimension of `shape` to the first index, step and
/// count that the IR's slice op takes (untouched dimensions: 0, 1, dim).
struct SliceGeometry {
  std::vector<int64_t> starts, steps, sizes;
};
Expected<SliceGeometry> sliceGeometry(const ir::Shape &shape, const std::vector<int64_t> &starts,
                                      const std::vector<int64_t> &ends,
                                      const std::vector<int64_t> &axes,
                                      const std::vector<int64_t> &steps);
/// Gather's indices checked against [-dim, dim) and made non-negative.
Status normalizeIndices(std::vector<int64_t> &idx, int64_t dim);
Expected<ConstTensor> sliceInts(const ConstTensor &data, const std::vector<int64_t> &starts,
                                const std::vector<int64_t> &ends, const std::vector<int64_t> &axes,
                                const std::vector<int64_t> &steps);

/// Elementwise integer operations with numpy broadcasting.
enum class IntOp { Add, Sub, Mul, Div, Equal };
Expected<ConstTensor> binaryInts(IntOp op, const ConstTensor &a, const ConstTensor &b);

/// Where(cond, x, y) on integer tensors, broadcasting all three.
Expected<ConstTensor> whereInts(const ConstTensor &cond, const ConstTensor &x,
                                const ConstTensor &y);

} // namespace gma::frontend

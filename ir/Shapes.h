//===- ir/Shapes.h - Result types of IR operations --------------*- C++ -*-===//
//
// Static shape rules of every op kind, shared by the frontend (which builds
// ops), the parser and the verifier (which check them).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

namespace gma::ir {

/// Numpy broadcast of two shapes, or an error naming both.
Expected<Shape> broadcastShapes(const Shape &a, const Shape &b);

/// The result type of `kind` applied to operands of the given types. View ops
/// whose result shape is not determined by their operands (reshape) return
/// `declared` after checking it is compatible; other ops ignore `declared`.
Expected<TensorType> inferResultType(OpKind kind, const std::vector<TensorType> &operands,
                                     const Attrs &attrs, const TensorType *declared = nullptr);

/// For each element of `result`, the index of the element of `operand` it reads
/// under numpy broadcasting.
std::vector<int64_t> broadcastIndex(const Shape &operand, const Shape &result);

/// Row-major strides of a shape, in elements.
Shape stridesOf(const Shape &shape);

} // namespace gma::ir

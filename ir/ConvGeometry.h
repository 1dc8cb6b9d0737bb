//===- ir/ConvGeometry.h - The geometry of a conv op --------------*- C++ -*-===//
//
// The one reading of a conv op's shapes and attributes (strides, pads,
// dilations, group), shared by its op record (ir/ops/Conv.cpp) and by the
// kernels' lowering (codegen/KernelPlan.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>

namespace gma::ir {

/// Input [N, C, in...], weight [M, C/group, kernel...], output [N, M, out...]
/// over k spatial dims; out = (in + padBegin + padEnd - dil·(kernel-1) - 1) / stride + 1.
struct ConvGeometry {
  int64_t N = 1, C = 1, M = 1, group = 1, k = 0; ///< k spatial dims
  Shape in, kernel, out, strides, padBegin, dilations;
};

/// The geometry of a conv with input type `x`, weight type `w` and `attrs`,
/// or an IrVerify error saying what does not fit.
Expected<ConvGeometry> convGeometry(const TensorType &x, const TensorType &w, const Attrs &attrs);

} // namespace gma::ir

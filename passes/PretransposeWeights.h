//===- passes/PretransposeWeights.h - Weights in kernel layout --*- C++ -*-===//
//
// The kernels read every affine weight as [K, N] row-major. This pass rewrites
// each `affine {transposed = 1}` (weight [N, K], as ONNX Gemm with transB
// stores it) to read a transposed copy of its weight with `transposed = 0`.
// A weight that other ops still read is kept; the copy is made once per weight.
// Run after fuse-affine (which creates affine ops) and before plan-buffers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gma::passes {

/// Makes every affine weight [K, N]. Returns whether any weight was transposed.
bool pretransposeWeights(ir::Graph &g);

} // namespace gma::passes

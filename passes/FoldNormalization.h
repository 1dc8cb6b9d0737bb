//===- passes/FoldNormalization.h - Fold input normalisation ----*- C++ -*-===//
//
// Folds per-feature normalisation, a chain of `add/sub/mul/div %x, C` with
// constant C, into the affine (or matmul-by-constant) op that consumes it,
// possibly through views that keep the feature mapping (ACAS Xu: sub, reshape,
// matmul; ERAN: sub, div, flatten, affine):
//   ((x - m) / s)·W + b  =  x·(diag(1/s)·W) + (b - (m/s)·W).
// Folded weights are computed in double and rounded to f32; the op's
// `ulp_error` bounds the rounding rigorously and folds needing more than 64 are
// skipped. Only normalisations whose results have no other users fold. Run
// after fold-constants, and after fuse-affine has turned matmul + add into an
// affine op: then the bias b' = C - (m/s)·W is computed in one rounding
// instead of two, which matters when it cancels.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gma::passes {

/// Folds normalisation chains into the following affine map. Returns whether
/// any chain was folded.
bool foldNormalization(ir::Graph &g);

} // namespace gma::passes

//===- passes/FuseAffine.h - Form and merge affine ops ----------*- C++ -*-===//
//
// Builds `affine` ops, the unit the bound kernels are fastest on:
//  - `matmul %x, %W` with a constant 2-D W becomes `affine %x, %W, 0`;
//  - an add or sub of a per-output constant after an affine op folds into its
//    bias (so matmul + add becomes one affine);
//  - consecutive affine ops with only views that keep the last axis between
//    them merge into one, W = W1·W2, b = b1·W2 + b2, when that is no more work.
// Folded values are computed in double and rounded to f32, with the rounding
// bounded in the op's `ulp_error`; merges needing more than 64 are skipped.
// Run after fold-normalization (which needs still-exact affine ops).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gma::passes {

/// Forms and merges affine ops. Returns whether the graph changed.
bool fuseAffine(ir::Graph &g);

} // namespace gma::passes

//===- passes/FoldConstants.h - Evaluate constant sub-graphs ----*- C++ -*-===//
//
// Replaces every op whose operands are all constants (add, sub, mul, div, neg,
// matmul, affine, transpose, reshape, identity, relu, sigmoid) by a constant
// holding its value, computed in double and rounded to nearest f32. Folding
// runs to a fixed point in one sweep, since the schedule is topological. Any
// time; the default pipeline runs it early so later passes see plain weights.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gma::passes {

/// Folds constant ops. Returns whether any op was folded.
bool foldConstants(ir::Graph &g);

} // namespace gma::passes

//===- passes/EliminateDeadCode.h - Remove unused ops -----------*- C++ -*-===//
//
// Dead-code elimination: erases every op whose result no live op and no graph
// output uses, constants included. Any time; the default pipeline runs it first
// (a dead user would block single-use rewrites) and before plan-buffers (so no
// buffer is planned for a value nobody reads).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gma::passes {

/// Erases unused ops. Returns whether any op was erased.
bool eliminateDeadCode(ir::Graph &g);

} // namespace gma::passes

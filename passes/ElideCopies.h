//===- passes/ElideCopies.h - Remove pass-through ops -----------*- C++ -*-===//
//
// Removes `identity` ops and reshapes to the type they already have, and turns
// a reshape of a reshape into one reshape. Other views stay: they cost nothing
// once plan-buffers aliases them to their operand. Any time; run after
// fold-constants so that views of constants are already folded.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gma::passes {

/// Elides copies and no-op views. Returns whether the graph changed.
bool elideCopies(ir::Graph &g);

} // namespace gma::passes

//===- ir/Verifier.h - IR invariants ----------------------------*- C++ -*-===//
//
// Checks that a graph is well formed: every operand is defined before use (the
// schedule is topological), operand counts match ir/Ops.def, result types match
// ir/Shapes.h, const ops name existing weights of the same type, affine ops have
// constant weights and bias, and graph outputs are defined.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

namespace gma::ir {

/// Returns the first violated invariant as an IrVerify error.
Status verifyGraph(const Graph &g);

} // namespace gma::ir

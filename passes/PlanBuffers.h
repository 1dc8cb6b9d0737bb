//===- passes/PlanBuffers.h - The buffer plan -------------------*- C++ -*-===//
//
// Gives every non-const op `buffer = [region, offset]` and the graph
// `arena = N`, the contract of docs/ir.md: region 0 is the scratch arena,
// 1 the caller's input, 2 the caller's output; views share their operand's
// buffer; in-place ops may reuse an operand that dies at them; values whose
// live ranges overlap never share floats. With more than one graph input the
// inputs live in the arena too, at the offsets of graph attribute
// `input_offsets`. Run last: any later rewrite invalidates the plan.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

namespace gma::passes {

/// Plans all buffers. Returns whether any attribute changed.
bool planBuffers(ir::Graph &g);

/// Checks a plan independently of how it was made: every op has a buffer in
/// range, views share their operand's, and no two values that are live at the
/// same time overlap (except an in-place op and the operand that dies at it).
Status checkBufferPlan(const ir::Graph &g);

} // namespace gma::passes

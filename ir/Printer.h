//===- ir/Printer.h - Textual form of the IR --------------------*- C++ -*-===//
//
// The text format (docs/ir.md):
//
//   graph @name(%x: f32[1,5]) -> (f32[1,5]) {
//     %0 = const @w0 : f32[5,50]
//     %1 = const dense<[0.5, -1]> : f32[2]
//     %2 = affine %x, %0, %1 {transposed = 1} : f32[1,50] loc("fc1")
//     return %2
//   }
//
// Values are numbered in schedule order when printed; graph inputs keep their
// names. Weights larger than `inlineWeightLimit` elements print by reference
// (`@w0`); references then need a weights section to parse back, which
// `printWeights` adds.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <ostream>
#include <string>

namespace gma::ir {

struct PrintOptions {
  /// Weights with at most this many elements print inline as dense<[...]>.
  int64_t inlineWeightLimit = 16;
  /// Append a `weights { @w0 = dense<...> : T }` section holding every weight
  /// printed by reference, so the output parses back exactly.
  bool printWeights = false;
  /// Print loc("...") origins.
  bool printLocations = true;
};

void printGraph(const Graph &g, std::ostream &os, const PrintOptions &opts = {});
/// An f32 with 9 significant digits (exact round trip); "inf", "-inf", "nan".
std::string formatFloat(float f);
std::string printGraph(const Graph &g, const PrintOptions &opts = {});

} // namespace gma::ir

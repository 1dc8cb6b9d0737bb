//===- ir/Interpreter.h - Reference evaluation of the IR --------*- C++ -*-===//
//
// The oracle that generated kernels are tested against: a direct, unoptimised
// implementation of every op's concrete semantics and of interval bound
// propagation (IBP).
//
// Soundness contract of `ibp`: for every input x with lo <= x <= hi, the
// exact real-arithmetic value of every output (the network as a function of
// its f32 weights) lies in [outLo, outHi]. Interval arithmetic runs in double
// with every result rounded outward to f32 (docs/soundness.md), so gamma's own
// rounding never narrows a bound.
//
// Data layout: each input/output is a batch of `batch` samples, each a dense
// row-major tensor of the IR type, one after another.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

#include <vector>

namespace gma::ir {

/// Concrete f32 evaluation; returns one buffer per graph output.
Expected<std::vector<std::vector<float>>>
evaluate(const Graph &g, const std::vector<std::vector<float>> &inputs, int64_t batch);

/// The same f32 evaluation, returning every value (indexed by ValueId;
/// constants hold their data once, not per sample).
Expected<std::vector<std::vector<float>>>
evaluateAll(const Graph &g, const std::vector<std::vector<float>> &inputs, int64_t batch);

/// The same evaluation with every operation in double (the weights are the
/// model's f32 values): the independent float64 reference that `gamma
/// verify` checks each counterexample against, on the unoptimised graph.
Expected<std::vector<std::vector<double>>>
evaluate64(const Graph &g, const std::vector<std::vector<double>> &inputs, int64_t batch);

struct IntervalBuffer {
  std::vector<float> lo, hi;
};

/// Interval bounds of every value of a graph (indexed by ValueId; constants
/// and values not computed yet are empty), for a batch.
struct IntervalState {
  std::vector<std::vector<float>> lo, hi;
};

/// Applies one op's interval transfer function: reads its operands' bounds
/// from `state` (constants from the weight store) and writes its result's.
Status ibpOp(const Graph &g, const Op &op, IntervalState &state, int64_t batch);

/// Interval bound propagation; returns one interval buffer per graph output.
Expected<std::vector<IntervalBuffer>> ibp(const Graph &g, const std::vector<IntervalBuffer> &inputs,
                                          int64_t batch);

} // namespace gma::ir

//===- ir/OpRecord.h - Each op kind's semantics in one place ----*- C++ -*-===//
//
// An op kind is a row of ir/Ops.def (mnemonic, operand count, traits) plus
// one OpRecord beside it, in ir/ops/<Family>.cpp: its shape rule, concrete
// evaluation (f32 and f64), interval transfer function and a generator of
// random valid instances. The interpreter, the shape checker and the generic
// op tests (test/unit/ir/OpRecordTest.cpp) are loops over records; none of
// them switches on the kind. Every row of Ops.def must have a record named
// k<Enum>Record: a missing one is a link error (ir/OpRecords.cpp).
//
// Not yet in the records (issue 11, in progress): ir::crown's backward rules,
// the kernel plan and the emitters, which still switch on the kind.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostic.h"

#include <cstdint>
#include <random>
#include <vector>

namespace gma::ir {

/// The operand types of a new op, its attributes and (for ops whose result
/// type is not a function of those: const, reshape) the declared type.
struct ShapeArgs {
  const std::vector<TensorType> &operands;
  const Attrs &attrs;
  const TensorType *declared; ///< may be null
};
using ShapeFn = Expected<TensorType> (*)(const ShapeArgs &);

/// One sample of one op: each operand's data (a constant's whole tensor, or
/// the sample's slice of an activation) and the result's slice to write.
template <class T> struct EvalArgs {
  const Graph &g;
  const Op &op;
  const T *const *in; ///< op.operands.size() pointers
  T *out;             ///< numel(result) values
};
/// Concrete semantics with every operation in T (float: the network's f32
/// arithmetic; double: the float64 reference for counterexamples).
template <class T> using EvalFn = void (*)(const EvalArgs<T> &);

/// One sample of one op's interval transfer function: operand bounds (a
/// constant has lo == hi == its data) and the result's bounds to write. The
/// result must contain the exact real-arithmetic value for every choice of
/// operands within their bounds (docs/soundness.md); an op that cannot be
/// bounded in this context returns an error (e.g. a division by an
/// activation).
struct IntervalArgs {
  const Graph &g;
  const Op &op;
  const float *const *lo, *const *hi;
  float *outLo, *outHi;
};
using IntervalFn = Status (*)(const IntervalArgs &);

/// A random valid instance: a graph whose one output is this op applied to
/// fresh inputs and/or constants (small shapes, values in about [-4, 4]),
/// for the generic op tests. Returns an empty graph (no ops) for kinds that
/// are not ops of their own (const).
using InstanceFn = Graph (*)(std::mt19937_64 &rng);

struct OpRecord {
  ShapeFn shape;
  EvalFn<float> eval;
  EvalFn<double> eval64;
  IntervalFn interval;
  InstanceFn instance;
};

/// The record of `kind` (ir/OpRecords.cpp).
const OpRecord &opRecord(OpKind kind);

} // namespace gma::ir

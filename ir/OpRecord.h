//===- ir/OpRecord.h - Each op kind's semantics in one place ----*- C++ -*-===//
//
// An op kind is a row of ir/Ops.def (mnemonic, operand count, traits) plus
// one OpRecord beside it, in ir/ops/<Family>.cpp: its shape rule, concrete
// evaluation (f32 and f64), interval transfer function, CROWN backward rule,
// reference gradient and a generator of random valid instances. The
// interpreter, ir::crown and its gradient, constant folding, the shape
// checker and the generic op tests
// (test/unit/ir/OpRecordTest.cpp) are loops over records; none of them
// switches on the kind. Every row of Ops.def must have a record named
// k<Enum>Record: a missing one is a link error (ir/OpRecords.cpp).
//
// Not yet in the records (issue 11, in progress): the kernel plan and the
// emitters, which still switch on the kind.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostic.h"

#include <cstdint>
#include <functional>
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

/// The CROWN backward rule (ir/CrownRule.h): moves Λ on the op's result onto
/// its operands with the rule's rounding charges. Null: ir::crown cannot
/// bound through this op.
class CrownBackward;
using CrownRuleFn = Status (*)(CrownBackward &ctx, const Op &op);
/// Number of terms this op adds into each Λ coefficient of operand k (the
/// fan-in that every rule's rounding charge counts, docs/soundness.md).
/// Null: one per element.
using CrownTermsFn = int64_t (*)(const Graph &g, const Op &op, size_t k);

/// One op of the reference gradient (ir::inputGradient): with `adjoint` =
/// d(c·f)/d(result) and each operand's value at the point, add the op's
/// contribution to its operands' adjoints (constants are ignored by `add`).
struct GradArgs {
  const Graph &g;
  const Op &op;
  const std::vector<double> &adjoint;
  std::function<double(size_t operand, int64_t i)> value;
  std::function<void(size_t operand, int64_t i, double d)> add;
};
/// Null: the gradient does not go through this op.
using GradFn = Status (*)(const GradArgs &);

/// Which neurons of a relaxed op's input ir::crown bounds by CROWN before
/// the op's interval rule runs: none (not relaxed), the ones its interval
/// leaves unstable (l < 0 < u: ReLU), or all (every line depends on the
/// bounds: sigmoid).
enum class CrownTighten { None, Unstable, All };

/// An index-map op (transpose, slice, concat, gather, expand): result
/// element i is element `index` of operand `operand`, for every i.
struct IndexSource {
  int32_t operand;
  int64_t index;
};
using SourceMap = std::vector<IndexSource>;
using SourceMapFn = SourceMap (*)(const Graph &g, const Op &op);

struct OpRecord {
  ShapeFn shape;
  EvalFn<float> eval;
  EvalFn<double> eval64;
  IntervalFn interval;
  InstanceFn instance;
  CrownRuleFn crown = nullptr;
  CrownTermsFn crownTerms = nullptr;
  CrownTighten tighten = CrownTighten::None;
  GradFn grad = nullptr;
  /// Index-map ops: the source of every result element, from which all the
  /// rules above are derived (ir/ops/Views.cpp) and which the kernels lower
  /// to one gather step (codegen/KernelPlan.cpp). Null for every other op.
  SourceMapFn sourceMap = nullptr;
};

/// The record of `kind` (ir/OpRecords.cpp).
const OpRecord &opRecord(OpKind kind);

} // namespace gma::ir

//===- passes/FoldConstants.cpp - Evaluate constant sub-graphs ------------===//
//
// 1. Sweep the schedule forward. An op whose operands are all constants is
//    evaluated in double on its operands' f32 data (its record's eval64,
//    ir/OpRecord.h: every op kind folds) and rounded to nearest f32.
// 2. The op becomes `const` of a new weight in place: it keeps its result id
//    and schedule position, so its users and the graph outputs need no update,
//    and a later op that reads it sees a constant in the same sweep.
// 3. Operand constants that nothing reads any more are erased.
//
// Rounding: data movement (reshape, identity, transpose), neg and relu are
// exact. Arithmetic (add ... div, matmul, affine, sigmoid) rounds its result to
// f32 once, so the folded graph computes with the rounded constant instead of
// the exact real value of the expression. This is the standard semantics of
// constant folding, and it is what an f32 execution of the model (the frontend's
// reference semantics) computes anyway; constant arithmetic in real models is
// limited to small weight preprocessing. Folding into *activations'* affine
// maps, where gamma must stay sound for real semantics, is the job of
// fold-normalization and fuse-affine, which record the error in ulp_error.
//
//===----------------------------------------------------------------------===//
#include "passes/FoldConstants.h"

#include "ir/OpRecord.h"
#include "passes/PassUtils.h"


namespace gma::passes {
namespace {

using namespace ir;

/// The value of `op` over constant operands, by its record's f64 evaluation.
std::vector<double> evaluate(const Graph &g, const Op &op) {
  std::vector<std::vector<double>> data;
  std::vector<const double *> in;
  for (ValueId o : op.operands)
    data.push_back(toDouble(*g.constant(o)));
  for (const auto &d : data)
    in.push_back(d.data());
  std::vector<double> r(static_cast<size_t>(g.type(op.result).numel()));
  opRecord(op.kind).eval64(EvalArgs<double>{g, op, in.data(), r.data()});
  return r;
}

} // namespace

bool foldConstants(Graph &g) {
  Rewriter rw(g);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op &op = g.ops[i];
    if (op.erased || op.kind == OpKind::Const || op.operands.empty())
      continue;
    bool allConstant = true;
    for (ValueId o : op.operands)
      allConstant = allConstant && g.isConstant(o);
    if (!allConstant)
      continue;
    std::vector<double> value = evaluate(g, op);
    std::vector<float> data(value.begin(), value.end());
    WeightId w = g.weights.add("", g.type(op.result), std::move(data));
    rw.setOperands(i, {});
    g.ops[i].kind = OpKind::Const;
    g.ops[i].weight = w;
    g.ops[i].attrs.clear();
  }
  return rw.finish();
}

} // namespace gma::passes

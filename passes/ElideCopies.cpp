//===- passes/ElideCopies.cpp - Remove pass-through ops -------------------===//
//
// One forward sweep over the schedule; at each op:
// 1. A reshape whose operand is another reshape reads the inner reshape's
//    operand instead; the inner one is erased if nothing else reads it. The
//    sweep is forward, so a chain of any length collapses onto its first input.
// 2. A pass-through op (`identity`) or a reshape whose result type equals its
//    operand's (possibly only after step 1) is replaced by its operand in every
//    use, and erased.
// Exception: if removing the op would make a graph output *be* a graph input,
// the op stays, because the caller's output buffer must still be written.
//
//===----------------------------------------------------------------------===//
#include "passes/ElideCopies.h"

#include "passes/PassUtils.h"

#include <algorithm>

namespace gma::passes {
namespace {

using namespace ir;

bool isGraphInput(const Graph &g, ValueId v) {
  return std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end();
}

} // namespace

bool elideCopies(Graph &g) {
  Rewriter rw(g);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op &op = g.ops[i];
    if (op.erased)
      continue;
    if (op.kind == OpKind::Reshape) {
      const Op *inner = g.defOp(op.operands[0]);
      if (inner && inner->kind == OpKind::Reshape)
        rw.setOperands(i, {inner->operands[0]});
    }
    bool passThrough = hasTrait(op.kind, kPassThrough) ||
                       (op.kind == OpKind::Reshape && g.type(op.result) == g.type(op.operands[0]));
    if (!passThrough)
      continue;
    ValueId src = op.operands[0];
    if (rw.isGraphOutput(op.result) && isGraphInput(g, src))
      continue;
    rw.replaceAllUsesWith(op.result, src);
    rw.erase(i);
  }
  return rw.finish();
}

} // namespace gma::passes

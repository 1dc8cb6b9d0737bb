//===- passes/EliminateDeadCode.cpp - Remove unused ops -------------------===//
//
// 1. Count the uses of every value by ops and graph outputs.
// 2. Walk the schedule backwards. An op whose result has no uses is erased and
//    its operands lose one use each. Because the schedule is topological, every
//    user of a value comes after its definition, so a single backward sweep
//    sees the final use count of each value when it reaches its definition.
// 3. Compact the schedule.
//
//===----------------------------------------------------------------------===//
#include "passes/EliminateDeadCode.h"

namespace gma::passes {

using namespace ir;

bool eliminateDeadCode(Graph &g) {
  std::vector<int> uses = g.useCounts();
  bool changed = false;
  for (size_t i = g.ops.size(); i-- > 0;) {
    Op &op = g.ops[i];
    if (op.erased || uses[op.result] > 0)
      continue;
    op.erased = true;
    for (ValueId o : op.operands)
      --uses[o];
    changed = true;
  }
  if (changed)
    g.compact();
  return changed;
}

} // namespace gma::passes

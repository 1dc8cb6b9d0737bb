//===- passes/PretransposeWeights.cpp - Weights in kernel layout ----------===//
//
// 1. For each affine op with `transposed = 1`, look up (or make, once per
//    weight value) a constant holding its [N, K] weight transposed to [K, N].
//    Transposition moves f32 values without arithmetic, so it is exact and the
//    op's ulp_error is unchanged.
// 2. Point the op at the new constant and set `transposed = 0`.
// 3. The old constant is erased by the rewriter if nothing reads it any more.
//
//===----------------------------------------------------------------------===//
#include "passes/PretransposeWeights.h"

#include "passes/PassUtils.h"

#include <map>

namespace gma::passes {

using namespace ir;

bool pretransposeWeights(Graph &g) {
  Rewriter rw(g);
  std::map<ValueId, ValueId> transposedOf;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op &op = g.ops[i];
    if (op.kind != OpKind::Affine || op.intAttr("transposed") == 0)
      continue;
    // newConst appends to g.ops, so hold ids, not references into it.
    ValueId x = op.operands[0], w = op.operands[1], b = op.operands[2];
    auto it = transposedOf.find(w);
    if (it == transposedOf.end()) {
      const Weight &wt = *g.constant(w);
      int64_t n = wt.type().shape[0], k = wt.type().shape[1];
      std::vector<float> data(static_cast<size_t>(n * k));
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          data[static_cast<size_t>(c * n + r)] = wt.at(r * k + c);
      std::string loc = g.defOp(w)->loc;
      it = transposedOf.emplace(w, rw.newConst(TensorType{{k, n}}, std::move(data), loc)).first;
    }
    rw.setOperands(i, {x, it->second, b});
    g.ops[i].attrs["transposed"] = Attribute::scalar(0);
  }
  return rw.finish();
}

} // namespace gma::passes

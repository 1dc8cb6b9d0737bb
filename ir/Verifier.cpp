//===- ir/Verifier.cpp - IR invariants ------------------------------------===//
//
// The invariants every pass must keep (see ir/Verifier.h). The pass manager runs
// this after every pass with --verify-each and in debug builds, so a pass that
// breaks the IR is caught at the pass, not three passes later.
//
//===----------------------------------------------------------------------===//
#include "ir/Verifier.h"

#include "ir/Shapes.h"

#include <fmt/format.h>

namespace gma::ir {
namespace {

Error verifyError(const Op *op, std::string msg) {
  Location loc;
  if (op) {
    loc.node = op->loc;
    loc.opType = std::string(mnemonic(op->kind));
  }
  return Error(ErrorCode::IrVerify, std::move(msg), loc);
}

} // namespace

Status verifyGraph(const Graph &g) {
  std::vector<bool> defined(g.values.size(), false);
  for (ValueId v : g.inputs) {
    if (v < 0 || v >= static_cast<ValueId>(g.values.size()))
      return verifyError(nullptr, fmt::format("graph input id {} is out of range", v));
    defined[v] = true;
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op &op = g.ops[i];
    if (op.erased)
      return verifyError(&op, "an erased op is still in the schedule (missing compact())");
    if (op.result < 0 || op.result >= static_cast<ValueId>(g.values.size()))
      return verifyError(&op, fmt::format("op {} has an out-of-range result id", i));
    if (defined[op.result])
      return verifyError(&op, fmt::format("value {} is defined twice", op.result));
    if (g.values[op.result].def != static_cast<int32_t>(i))
      return verifyError(&op, fmt::format("value {} has a stale def link (call updateDefs())",
                                          op.result));
    int expected = numOperands(op.kind);
    if (expected >= 0 && static_cast<int>(op.operands.size()) != expected)
      return verifyError(&op, fmt::format("'{}' takes {} operands, has {}", mnemonic(op.kind),
                                          expected, op.operands.size()));
    std::vector<TensorType> types;
    for (ValueId o : op.operands) {
      if (o < 0 || o >= static_cast<ValueId>(g.values.size()) || !defined[o])
        return verifyError(&op, fmt::format("operand {} is used before it is defined", o));
      types.push_back(g.type(o));
    }
    const TensorType &declared = g.type(op.result);
    if (op.kind == OpKind::Const) {
      if (op.weight < 0 || op.weight >= g.weights.size())
        return verifyError(&op, fmt::format("const names weight {} which does not exist",
                                            op.weight));
      if (g.weights.get(op.weight).type() != declared)
        return verifyError(&op, fmt::format("const has type {} but its weight is {}",
                                            declared.str(),
                                            g.weights.get(op.weight).type().str()));
    } else {
      auto inferred = inferResultType(op.kind, types, op.attrs, &declared);
      if (!inferred)
        return verifyError(&op, inferred.error().message());
      if (*inferred != declared)
        return verifyError(&op, fmt::format("'{}' produces {} but its result is declared {}",
                                            mnemonic(op.kind), inferred->str(), declared.str()));
    }
    if (op.kind == OpKind::Affine && (!g.isConstant(op.operands[1]) || !g.isConstant(op.operands[2])))
      return verifyError(&op, "affine weight and bias must be constants");
    defined[op.result] = true;
  }
  if (g.outputs.empty())
    return verifyError(nullptr, "the graph has no outputs");
  for (ValueId v : g.outputs)
    if (v < 0 || v >= static_cast<ValueId>(g.values.size()) || !defined[v])
      return verifyError(nullptr, fmt::format("graph output {} is not defined", v));
  return Status::ok();
}

} // namespace gma::ir

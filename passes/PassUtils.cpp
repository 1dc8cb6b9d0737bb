//===- passes/PassUtils.cpp - Shared helpers for graph rewrites -----------===//
#include "passes/PassUtils.h"

#include "ir/Shapes.h"

#include <algorithm>
#include <cassert>

namespace gma::passes {

using namespace ir;

std::vector<double> toDouble(const Weight &w) {
  std::vector<double> r(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i)
    r[static_cast<size_t>(i)] = w.at(i);
  return r;
}

std::optional<int> constOperandIndex(const Graph &g, const Op &op) {
  if (op.operands.size() != 2)
    return std::nullopt;
  bool c0 = g.isConstant(op.operands[0]), c1 = g.isConstant(op.operands[1]);
  if (c0 == c1)
    return std::nullopt;
  return c0 ? 0 : 1;
}

bool isMatMulByConstant(const Graph &g, const Op &op) {
  if (op.kind != OpKind::MatMul)
    return false;
  const Weight *w = g.constant(op.operands[1]);
  return w && w->type().rank() == 2 && !g.isConstant(op.operands[0]) &&
         g.type(op.operands[0]).rank() >= 1;
}

Rewriter::Rewriter(Graph &g)
    : g_(g), uses_(g.useCounts()), users_(g.values.size()),
      firstNewValue_(static_cast<ValueId>(g.values.size())) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (!g.ops[i].erased)
      for (ValueId o : g.ops[i].operands)
        users_[o].push_back(static_cast<int32_t>(i));
}

bool Rewriter::hasOneOpUse(ValueId v) const { return uses_[v] == 1 && !isGraphOutput(v); }

bool Rewriter::isGraphOutput(ValueId v) const {
  return std::find(g_.outputs.begin(), g_.outputs.end(), v) != g_.outputs.end();
}

ValueId Rewriter::newConst(TensorType type, std::vector<float> data, std::string loc) {
  ValueId v = g_.addConst("", std::move(type), std::move(data), std::move(loc));
  uses_.resize(g_.values.size(), 0);
  users_.resize(g_.values.size());
  noteMaybeDead(v);
  changed_ = true;
  return v;
}

void Rewriter::setOperands(size_t i, std::vector<ValueId> operands) {
  Op &op = g_.ops[i];
  for (ValueId o : op.operands) {
    --uses_[o];
    noteMaybeDead(o);
  }
  op.operands = std::move(operands);
  for (ValueId o : op.operands) {
    ++uses_[o];
    users_[o].push_back(static_cast<int32_t>(i));
  }
  changed_ = true;
}

void Rewriter::replaceAllUsesWith(ValueId from, ValueId to) {
  if (from == to)
    return;
  if (isGraphOutput(from) && g_.values[to].name.empty())
    g_.values[to].name = g_.values[from].name;
  // The ops on from's use list (stale entries read no `from` any more and are
  // skipped), then the graph outputs.
  std::vector<int32_t> users = std::move(users_[from]);
  users_[from].clear();
  for (int32_t i : users) {
    Op &op = g_.ops[static_cast<size_t>(i)];
    if (op.erased)
      continue;
    bool reads = false;
    for (ValueId &o : op.operands) {
      ++operandVisits_;
      if (o == from) {
        o = to;
        reads = true;
      }
    }
    if (reads)
      users_[to].push_back(i);
  }
  for (ValueId &o : g_.outputs)
    if (o == from)
      o = to;
  uses_[to] += uses_[from];
  uses_[from] = 0;
  noteMaybeDead(from);
  changed_ = true;
}

void Rewriter::erase(size_t i) {
  Op &op = g_.ops[i];
  assert(!op.erased && uses_[op.result] == 0 && "erasing an op that is still used");
  op.erased = true;
  for (ValueId o : op.operands) {
    --uses_[o];
    noteMaybeDead(o);
  }
  changed_ = true;
}

bool Rewriter::finish() {
  // 1. Erase what this rewrite left dead, following operands transitively.
  while (!maybeDead_.empty()) {
    ValueId v = maybeDead_.back();
    maybeDead_.pop_back();
    Op *op = g_.defOp(v);
    if (op && !op->erased && uses_[v] == 0)
      erase(static_cast<size_t>(g_.values[v].def));
  }
  if (!changed_)
    return false;
  // 2. Rebuild the schedule, holding each new constant back until the first op
  //    that reads it, so that printed IR shows a weight next to its user.
  std::vector<Op> schedule;
  schedule.reserve(g_.ops.size());
  std::vector<bool> isNew(g_.values.size(), false);
  std::vector<Op *> held(g_.values.size(), nullptr);
  for (Op &op : g_.ops)
    if (!op.erased && op.kind == OpKind::Const && op.result >= firstNewValue_) {
      isNew[op.result] = true;
      held[op.result] = &op;
    }
  for (Op &op : g_.ops) {
    if (op.erased || isNew[op.result])
      continue;
    for (ValueId o : op.operands)
      if (held[o]) {
        schedule.push_back(std::move(*held[o]));
        held[o] = nullptr;
      }
    schedule.push_back(std::move(op));
  }
  for (Op *op : held)
    if (op)
      schedule.push_back(std::move(*op));
  g_.ops = std::move(schedule);
  g_.updateDefs();
  return true;
}

} // namespace gma::passes

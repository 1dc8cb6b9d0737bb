//===- ir/Graph.cpp - The bound-propagation graph IR ----------------------===//
#include "ir/Graph.h"

#include <algorithm>
#include <cassert>
#include <fmt/format.h>

namespace gma::ir {

int64_t TensorType::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string TensorType::str() const { return fmt::format("f32[{}]", fmt::join(shape, ",")); }

Weight::Weight(std::string name, TensorType type, std::vector<float> data)
    : name_(std::move(name)), type_(std::move(type)) {
  assert(static_cast<int64_t>(data.size()) == type_.numel() && "weight size mismatch");
  auto holder = std::make_shared<std::vector<float>>(std::move(data));
  data_ = holder->data();
  owner_ = std::move(holder);
}

Weight::Weight(std::string name, TensorType type, std::shared_ptr<const void> owner,
               const float *data)
    : name_(std::move(name)), type_(std::move(type)), owner_(std::move(owner)), data_(data) {}

WeightId WeightStore::add(std::string name, TensorType type, std::vector<float> data) {
  return add(Weight(std::move(name), std::move(type), std::move(data)));
}

WeightId WeightStore::add(Weight w) {
  std::string name = w.name();
  if (name.empty() || byName_.count(name)) {
    int n = static_cast<int>(weights_.size());
    do
      name = fmt::format("w{}", n++);
    while (byName_.count(name));
    w.setName(name);
  }
  WeightId id = static_cast<WeightId>(weights_.size());
  weights_.push_back(std::move(w));
  byName_[name] = id;
  return id;
}

WeightId WeightStore::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? -1 : it->second;
}

ValueId Graph::addInput(std::string name, TensorType type) {
  ValueId v = static_cast<ValueId>(values.size());
  values.push_back(Value{std::move(type), -1, std::move(name)});
  inputs.push_back(v);
  return v;
}

ValueId Graph::addOp(OpKind kind, std::vector<ValueId> operands, TensorType resultType,
                     Attrs a, std::string loc) {
  ValueId v = static_cast<ValueId>(values.size());
  values.push_back(Value{std::move(resultType), static_cast<int32_t>(ops.size()), {}});
  Op op;
  op.kind = kind;
  op.operands = std::move(operands);
  op.result = v;
  op.attrs = std::move(a);
  op.loc = std::move(loc);
  ops.push_back(std::move(op));
  return v;
}

ValueId Graph::addConst(WeightId w, std::string loc) {
  ValueId v = addOp(OpKind::Const, {}, weights.get(w).type(), {}, std::move(loc));
  ops.back().weight = w;
  return v;
}

ValueId Graph::addConst(std::string name, TensorType type, std::vector<float> data,
                        std::string loc) {
  WeightId w = weights.add(std::move(name), std::move(type), std::move(data));
  return addConst(w, std::move(loc));
}

const Op *Graph::defOp(ValueId v) const {
  int32_t d = values[v].def;
  return d < 0 ? nullptr : &ops[d];
}

Op *Graph::defOp(ValueId v) {
  int32_t d = values[v].def;
  return d < 0 ? nullptr : &ops[d];
}

const Weight *Graph::constant(ValueId v) const {
  const Op *op = defOp(v);
  if (!op || op->erased || op->kind != OpKind::Const)
    return nullptr;
  return &weights.get(op->weight);
}

std::vector<int> Graph::useCounts() const {
  std::vector<int> uses(values.size(), 0);
  for (const Op &op : ops)
    if (!op.erased)
      for (ValueId o : op.operands)
        ++uses[o];
  for (ValueId o : outputs)
    ++uses[o];
  return uses;
}

void Graph::compact() {
  ops.erase(std::remove_if(ops.begin(), ops.end(), [](const Op &op) { return op.erased; }),
            ops.end());
  updateDefs();
}

void Graph::updateDefs() {
  for (Value &v : values)
    v.def = -1;
  for (size_t i = 0; i < ops.size(); ++i)
    values[ops[i].result].def = static_cast<int32_t>(i);
}

} // namespace gma::ir

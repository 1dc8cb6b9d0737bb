//===- ir/Graph.h - The bound-propagation graph IR --------------*- C++ -*-===//
//
// An SSA graph of tensor operations with static shapes and f32 values.
//
// - A `Value` is produced once: by a graph input or by one `Op`. Value ids are
//   stable for the life of a Graph (erasing an op leaves its result id unused).
// - `Graph::ops` is the schedule: a topological order. Passes may rewrite it;
//   `Graph::compact()` drops erased ops and refreshes def links. The graph
//   itself only appends; edits go through passes::Rewriter (passes/PassUtils.h),
//   whose use lists make each edit O(uses), so no pass is quadratic by its
//   editing primitives.
// - Weights live in the `WeightStore`, outside the op list; a `const` op names a
//   weight. Several const ops may share one weight.
// - Shapes are per sample: a compiled kernel runs a batch of B samples, each a
//   full tensor of the IR's shape, stored contiguously one after another.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/OpKinds.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gma::ir {

using Shape = std::vector<int64_t>;

/// A static f32 tensor type. Rank 0 is a scalar.
struct TensorType {
  Shape shape;

  int64_t numel() const;
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  bool operator==(const TensorType &o) const { return shape == o.shape; }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
  /// "f32[1,5]"; "f32[]" for a scalar.
  std::string str() const;
};

/// An op attribute: an integer or a list of integers.
struct Attribute {
  std::vector<int64_t> ints;
  bool isList = false;

  static Attribute scalar(int64_t v) { return {{v}, false}; }
  static Attribute list(std::vector<int64_t> v) { return {std::move(v), true}; }
  int64_t asInt() const { return ints.empty() ? 0 : ints[0]; }
  bool operator==(const Attribute &o) const { return ints == o.ints && isList == o.isList; }
};

/// Attributes sorted by name, so printing is deterministic.
using Attrs = std::map<std::string, Attribute>;

using ValueId = int32_t;
using WeightId = int32_t;
constexpr ValueId kNoValue = -1;

/// A constant tensor. Data is owned through `owner` so that it can be a vector,
/// a slice of a memory-mapped file, or a protobuf's raw bytes.
class Weight {
public:
  Weight(std::string name, TensorType type, std::vector<float> data);
  Weight(std::string name, TensorType type, std::shared_ptr<const void> owner,
         const float *data);

  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  const TensorType &type() const { return type_; }
  const float *data() const { return data_; }
  /// What keeps data() alive (a vector, a mapped file, a protobuf's bytes).
  const std::shared_ptr<const void> &owner() const { return owner_; }
  int64_t numel() const { return type_.numel(); }
  float at(int64_t i) const { return data_[i]; }

private:
  std::string name_;
  TensorType type_;
  std::shared_ptr<const void> owner_;
  const float *data_;
};

class WeightStore {
public:
  /// Adds a weight; an empty or taken name gets a fresh "w<N>" name.
  WeightId add(std::string name, TensorType type, std::vector<float> data);
  WeightId add(Weight w);
  const Weight &get(WeightId id) const { return weights_[id]; }
  int64_t size() const { return static_cast<int64_t>(weights_.size()); }
  /// Id of the weight called `name`, or -1.
  WeightId find(const std::string &name) const;

private:
  std::vector<Weight> weights_;
  std::map<std::string, WeightId> byName_;
};

struct Value {
  TensorType type;
  int32_t def = -1;  ///< Index in Graph::ops of the defining op; -1 for graph inputs.
  std::string name;  ///< Graph inputs/outputs keep the model's tensor name.
};

struct Op {
  OpKind kind;
  std::vector<ValueId> operands;
  ValueId result = kNoValue;
  Attrs attrs;
  WeightId weight = -1; ///< For kConstant ops.
  std::string loc;      ///< Where it came from (ONNX node name); printed as loc("...").
  bool erased = false;

  bool hasAttr(const std::string &name) const { return attrs.count(name) != 0; }
  int64_t intAttr(const std::string &name, int64_t dflt = 0) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? dflt : it->second.asInt();
  }
};

class Graph {
public:
  std::string name = "main";
  std::vector<Value> values;
  std::vector<Op> ops; ///< The schedule, in topological order.
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  WeightStore weights;
  Attrs attrs; ///< Graph-level attributes (e.g. the buffer plan's arena size).
  /// Digest (support/Hash.h, 32 hex digits) of every byte the graph was read
  /// from: the model file and each external-data file it names. Empty for
  /// graphs built in memory. Compiled libraries record it, and the compile
  /// cache keys on it.
  std::string sourceDigest;

  ValueId addInput(std::string name, TensorType type);
  /// Appends an op at the end of the schedule and returns its result.
  ValueId addOp(OpKind kind, std::vector<ValueId> operands, TensorType resultType,
                Attrs attrs = {}, std::string loc = {});
  /// Appends `%r = const @w` for an existing weight.
  ValueId addConst(WeightId w, std::string loc = {});
  /// Adds a weight and a const op for it.
  ValueId addConst(std::string name, TensorType type, std::vector<float> data,
                   std::string loc = {});

  const TensorType &type(ValueId v) const { return values[v].type; }
  /// The op that defines `v`, or nullptr for graph inputs.
  const Op *defOp(ValueId v) const;
  Op *defOp(ValueId v);
  /// The weight behind `v` if `v` is defined by a const op, else nullptr.
  const Weight *constant(ValueId v) const;
  bool isConstant(ValueId v) const { return constant(v) != nullptr; }

  /// Number of uses of each value by live ops and graph outputs.
  std::vector<int> useCounts() const;
  /// Marks op i erased; call compact() when done.
  void eraseOp(size_t i) { ops[i].erased = true; }
  /// Drops erased ops and refreshes each value's def link.
  void compact();
  /// Refreshes each value's def link from the op list.
  void updateDefs();
};

} // namespace gma::ir

//===- frontend/onnx/ImportContext.cpp - State of one ONNX import ---------===//
//
// The side table of tensor names, materialisation of constants as weights, and
// NodeLowering: typed access to one node's attributes and operands, op
// emission with shape inference, and errors located at the node.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/ImportContext.h"

#include "frontend/onnx/TensorData.h"
#include "ir/Shapes.h"

#include <algorithm>
#include <onnx/onnx_pb.h>

#include <fmt/format.h>

namespace gma::frontend {

//===----------------------------------------------------------------------===//
// ConstTensor
//===----------------------------------------------------------------------===//

ConstTensor ConstTensor::ofInts(ir::Shape shape, std::vector<int64_t> data) {
  ConstTensor c;
  c.kind = Kind::Int;
  c.shape = std::move(shape);
  c.ints = std::move(data);
  assert(static_cast<int64_t>(c.ints.size()) == c.numel() && "int tensor size mismatch");
  return c;
}

ConstTensor ConstTensor::ofFloats(ir::Shape shape, std::vector<float> data) {
  auto holder = std::make_shared<std::vector<float>>(std::move(data));
  const float *p = holder->data();
  ConstTensor c = ofFloatView(std::move(shape), std::move(holder), p);
  return c;
}

ConstTensor ConstTensor::ofFloatView(ir::Shape shape, std::shared_ptr<const void> owner,
                                     const float *data) {
  ConstTensor c;
  c.kind = Kind::Float;
  c.shape = std::move(shape);
  c.owner = std::move(owner);
  c.floats = data;
  return c;
}

int64_t ConstTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

ConstTensor ConstTensor::withShape(ir::Shape newShape) const {
  ConstTensor c = *this;
  c.shape = std::move(newShape);
  assert(c.numel() == numel() && "withShape changes the element count");
  return c;
}

std::vector<float> ConstTensor::floatVector() const {
  assert(isFloat() && "floatVector of an integer tensor");
  return std::vector<float>(floats, floats + numel());
}

//===----------------------------------------------------------------------===//
// ImportContext
//===----------------------------------------------------------------------===//

ir::ValueId ImportContext::addWeight(const ConstTensor &c, std::string name) {
  assert(c.isFloat() && "only float tensors become weights");
  ir::WeightId w =
      graph.weights.add(ir::Weight(std::move(name), ir::TensorType{c.shape}, c.owner, c.floats));
  return graph.addConst(w);
}

std::optional<ir::ValueId> ImportContext::materialize(TensorEntry &entry) {
  if (entry.value != ir::kNoValue)
    return entry.value;
  if (!entry.constant || !entry.constant->isFloat())
    return std::nullopt;
  entry.value = addWeight(*entry.constant, entry.weightName);
  return entry.value;
}

//===----------------------------------------------------------------------===//
// NodeLowering
//===----------------------------------------------------------------------===//

NodeLowering::NodeLowering(ImportContext &ctx, const onnx::NodeProto &node, int index)
    : ctx_(ctx), node_(node), index_(index) {
  irLoc_ = node.name().empty() ? fmt::format("{}_{}", node.op_type(), index) : node.name();
  loc_.file = ctx.file;
  loc_.node = node.name().empty() ? fmt::format("#{}", index) : node.name();
  loc_.opType = fmt::format("{} (opset {})", node.op_type(), ctx.opset);
}

const std::string &NodeLowering::opType() const { return node_.op_type(); }

Error NodeLowering::error(ErrorCode code, std::string message) const {
  return Error(code, std::move(message), loc_);
}

Error NodeLowering::locate(Error err) const { return withLocation(std::move(err), loc_); }

size_t NodeLowering::numInputs() const { return static_cast<size_t>(node_.input_size()); }

bool NodeLowering::hasInput(size_t i) const {
  return i < numInputs() && !node_.input(static_cast<int>(i)).empty();
}

const std::string &NodeLowering::inputName(size_t i) const {
  static const std::string kNone;
  return i < numInputs() ? node_.input(static_cast<int>(i)) : kNone;
}

Expected<TensorEntry *> NodeLowering::input(size_t i) {
  if (!hasInput(i))
    return error(ErrorCode::OnnxMissingInput,
                 fmt::format("{} needs input #{}, which is not given", opType(), i));
  auto it = ctx_.tensors.find(inputName(i));
  if (it == ctx_.tensors.end())
    return error(ErrorCode::OnnxMissingInput,
                 fmt::format("input '{}' is not produced by any earlier node, initializer or "
                             "graph input",
                             inputName(i)));
  return &it->second;
}

Expected<ir::ValueId> NodeLowering::value(size_t i) {
  auto entry = input(i);
  if (!entry)
    return entry.takeError();
  if (std::optional<ir::ValueId> v = ctx_.materialize(**entry))
    return *v;
  return error(ErrorCode::OnnxUnsupportedType,
               fmt::format("input '{}' is integer shape data, but {} is only supported on "
                           "float32 tensors here",
                           inputName(i), opType()));
}

Expected<const ConstTensor *> NodeLowering::maybeConstant(size_t i) {
  auto entry = input(i);
  if (!entry)
    return entry.takeError();
  return (*entry)->constant ? &*(*entry)->constant : nullptr;
}

Expected<const ConstTensor *> NodeLowering::constant(size_t i, const char *what) {
  auto c = maybeConstant(i);
  if (!c)
    return c.takeError();
  if (!*c)
    return error(ErrorCode::OnnxNonConstant,
                 fmt::format("{} ('{}') must be known at import time, but it is computed from "
                             "the model's inputs",
                             what, inputName(i)));
  return *c;
}

Expected<std::vector<int64_t>> NodeLowering::constInts(size_t i, const char *what) {
  auto c = constant(i, what);
  if (!c)
    return c.takeError();
  if (!(*c)->isInt() || (*c)->shape.size() > 1)
    return error(ErrorCode::OnnxUnsupportedType,
                 fmt::format("{} ('{}') must be a 1-D integer tensor", what, inputName(i)));
  return (*c)->ints;
}

Expected<ir::Shape> NodeLowering::shapeOf(size_t i) {
  auto entry = input(i);
  if (!entry)
    return entry.takeError();
  if ((*entry)->value != ir::kNoValue)
    return graph().type((*entry)->value).shape;
  return (*entry)->constant->shape;
}

//--- Attributes -----------------------------------------------------------===//

const onnx::AttributeProto *NodeLowering::findAttr(const char *name, int expectedType) {
  for (const onnx::AttributeProto &a : node_.attribute()) {
    if (a.name() != name)
      continue;
    // Old exporters leave `type` unset; accept the attribute if the field we
    // need is present.
    if (a.type() == expectedType || a.type() == onnx::AttributeProto::UNDEFINED)
      return &a;
    attrKindError(name);
    return nullptr;
  }
  return nullptr;
}

void NodeLowering::attrKindError(const char *name) {
  if (!attrError_)
    attrError_ = error(ErrorCode::OnnxMalformed,
                       fmt::format("attribute '{}' has the wrong kind for {}", name, opType()));
}

bool NodeLowering::hasAttr(const char *name) const {
  for (const onnx::AttributeProto &a : node_.attribute())
    if (a.name() == name)
      return true;
  return false;
}

int64_t NodeLowering::intAttr(const char *name, int64_t dflt) {
  auto *a = findAttr(name, onnx::AttributeProto::INT);
  return a && a->has_i() ? a->i() : dflt;
}

float NodeLowering::floatAttr(const char *name, float dflt) {
  auto *a = findAttr(name, onnx::AttributeProto::FLOAT);
  return a && a->has_f() ? a->f() : dflt;
}

std::optional<std::vector<int64_t>> NodeLowering::intsAttr(const char *name) {
  auto *a = findAttr(name, onnx::AttributeProto::INTS);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<std::vector<float>> NodeLowering::floatsAttr(const char *name) {
  auto *a = findAttr(name, onnx::AttributeProto::FLOATS);
  if (!a)
    return std::nullopt;
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

std::optional<std::string> NodeLowering::stringAttr(const char *name) {
  auto *a = findAttr(name, onnx::AttributeProto::STRING);
  if (!a)
    return std::nullopt;
  return a->s();
}

const onnx::TensorProto *NodeLowering::tensorAttr(const char *name) {
  auto *a = findAttr(name, onnx::AttributeProto::TENSOR);
  return a && a->has_t() ? &a->t() : nullptr;
}

std::vector<std::string> NodeLowering::attrNames() const {
  std::vector<std::string> names;
  for (const onnx::AttributeProto &a : node_.attribute())
    names.push_back(a.name());
  return names;
}

//--- Results --------------------------------------------------------------===//

size_t NodeLowering::numOutputs() const { return static_cast<size_t>(node_.output_size()); }

const std::string &NodeLowering::outputName(size_t i) const {
  static const std::string kNone;
  return i < numOutputs() ? node_.output(static_cast<int>(i)) : kNone;
}

bool NodeLowering::outputUsed(size_t i) const {
  const std::string &name = outputName(i);
  return !name.empty() && ctx_.consumed.count(name) != 0;
}

Expected<ir::ValueId> NodeLowering::emit(ir::OpKind kind, std::vector<ir::ValueId> operands,
                                         ir::Attrs attrs, const ir::TensorType *declared) {
  std::vector<ir::TensorType> types;
  for (ir::ValueId v : operands)
    types.push_back(graph().type(v));
  auto type = ir::inferResultType(kind, types, attrs, declared);
  if (!type) {
    std::string operandTypes;
    for (const ir::TensorType &t : types)
      operandTypes += (operandTypes.empty() ? "" : ", ") + t.str();
    return error(ErrorCode::OnnxShapeMismatch, fmt::format("{} on operands ({}): {}", opType(),
                                                           operandTypes, type.error().message()));
  }
  // Activations only: an op on constants (a weight's transpose, say) is
  // folded away and may be as large as the weights.
  bool activation = std::any_of(operands.begin(), operands.end(),
                                [&](ir::ValueId v) { return graph().constant(v) == nullptr; });
  int64_t numel = 1;
  for (int64_t d : activation ? type->shape : ir::Shape{}) {
    if (d > 0 && numel > kMaxValueElements / d)
      return error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("{} would produce {}, more than 2^28 elements", opType(),
                               type->str()));
    numel *= std::max<int64_t>(d, 1);
  }
  return graph().addOp(kind, std::move(operands), *type, std::move(attrs), irLoc_);
}

void NodeLowering::define(size_t i, ir::ValueId v) {
  if (outputName(i).empty())
    return;
  TensorEntry &e = ctx_.tensors[outputName(i)];
  e = TensorEntry{};
  e.value = v;
}

void NodeLowering::define(size_t i, ConstTensor c) {
  if (outputName(i).empty())
    return;
  TensorEntry &e = ctx_.tensors[outputName(i)];
  e = TensorEntry{};
  e.constant = std::move(c);
  e.weightName = outputName(i);
}

void NodeLowering::alias(size_t i, const TensorEntry &entry) {
  if (outputName(i).empty())
    return;
  TensorEntry copy = entry; // `entry` may live in the same map.
  ctx_.tensors[outputName(i)] = std::move(copy);
}

} // namespace gma::frontend

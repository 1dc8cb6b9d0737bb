//===- frontend/onnx/LowerShapes.cpp - Constants, views and shape data ----===//
//
// Three groups of ONNX operators:
//
// - Constant: a tensor known at import time (float weights or integer shape
//   data), recorded in the tensor table; it becomes a const op only if a float
//   op uses it.
// - View operators (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout at
//   inference, Transpose): `reshape`/`identity`/`transpose` ops on
//   activations. Reshaping a constant only relabels its shape (no data moves,
//   nothing is rounded), so it is done here; transposing a float constant is
//   emitted as an op on the const and left to the fold-constants pass.
// - Integer shape operators (Shape, Gather, Concat, Cast, Slice, Equal,
//   Where): evaluated at import, on import-time constants only.
//
// Attributes that moved between opsets are read per opset: Squeeze/Unsqueeze
// axes (attribute before 13, input from 13), Slice starts/ends (attributes
// before 10), Shape start/end (from 15), Reshape allowzero (from 14), Dropout
// training_mode (input from 12).
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/Lowering.h"
#include "frontend/onnx/ShapeFolding.h"
#include "frontend/onnx/TensorData.h"
#include "ir/Shapes.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gma::frontend {
namespace {

/// Binds output 0 to input 0 viewed with `shape`: a relabelled constant, or a
/// `reshape` op on an activation.
Status viewAs(NodeLowering &n, ir::Shape shape) {
  auto c = n.maybeConstant(0);
  if (!c)
    return c.takeError();
  if (*c) {
    n.define(0, (*c)->withShape(std::move(shape)));
    return Status::ok();
  }
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  ir::TensorType type{std::move(shape)};
  auto r = n.emit(ir::OpKind::Reshape, {*x}, {}, &type);
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

/// Binds output 0 to input 0 unchanged: the same constant, or an `identity`
/// op on an activation.
Status passThrough(NodeLowering &n) {
  auto entry = n.input(0);
  if (!entry)
    return entry.takeError();
  if ((*entry)->constant) {
    n.alias(0, **entry);
    return Status::ok();
  }
  auto r = n.emit(ir::OpKind::Identity, {(*entry)->value});
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

/// Input `i` as an integer import-time constant (shape data).
Expected<const ConstTensor *> intConstant(NodeLowering &n, size_t i, const char *what) {
  auto c = n.constant(i, what);
  if (!c)
    return c.takeError();
  if (!(*c)->isInt())
    return n.error(ErrorCode::OnnxUnsupportedType,
                   fmt::format("{} is supported on integer shape data only, but {} ('{}') is "
                               "float32",
                               n.opType(), what, n.inputName(i)));
  return *c;
}

/// Binds output 0 to a folded result, or reports the folding error at the node.
Status defineFolded(NodeLowering &n, Expected<ConstTensor> r) {
  if (!r)
    return n.locate(r.takeError());
  n.define(0, std::move(*r));
  return Status::ok();
}

bool isIntType(int t) {
  return t == onnx::TensorProto::INT64 || t == onnx::TensorProto::INT32 ||
         t == onnx::TensorProto::INT16 || t == onnx::TensorProto::INT8 ||
         t == onnx::TensorProto::UINT8 || t == onnx::TensorProto::UINT16 ||
         t == onnx::TensorProto::UINT32 || t == onnx::TensorProto::UINT64 ||
         t == onnx::TensorProto::BOOL;
}

bool isFloatType(int t) { return t == onnx::TensorProto::FLOAT || t == onnx::TensorProto::DOUBLE; }

} // namespace

//===----------------------------------------------------------------------===//
// Constant
//===----------------------------------------------------------------------===//

Status lowerConstant(NodeLowering &n) {
  if (const onnx::TensorProto *t = n.tensorAttr("value")) {
    auto c = decodeTensor(*t, n.context().model, *n.context().external);
    return defineFolded(n, std::move(c));
  }
  auto finite = [&](ConstTensor c) -> Expected<ConstTensor> {
    if (Status s = checkFinite(c); !s)
      return s.takeError();
    return c;
  };
  if (n.hasAttr("value_float"))
    return defineFolded(n, finite(ConstTensor::ofFloats({}, {n.floatAttr("value_float", 0.0f)})));
  if (auto v = n.floatsAttr("value_floats")) {
    int64_t size = static_cast<int64_t>(v->size());
    return defineFolded(n, finite(ConstTensor::ofFloats({size}, std::move(*v))));
  }
  if (n.hasAttr("value_int"))
    return defineFolded(n, ConstTensor::ofInts({}, {n.intAttr("value_int", 0)}));
  if (auto v = n.intsAttr("value_ints")) {
    int64_t size = static_cast<int64_t>(v->size());
    return defineFolded(n, ConstTensor::ofInts({size}, std::move(*v)));
  }
  for (const std::string &name : n.attrNames())
    if (name == "sparse_value" || name == "value_string" || name == "value_strings")
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     fmt::format("Constant with '{}' is not supported", name));
  return n.error(ErrorCode::OnnxMalformed, "Constant has no value attribute");
}

/// ConstantOfShape(shape) {value}: a constant filled with `value` (one
/// element; float 0 when absent), folded at import.
Status lowerConstantOfShape(NodeLowering &n) {
  auto shape = n.constInts(0, "ConstantOfShape's shape");
  if (!shape)
    return shape.takeError();
  int64_t count = 1;
  for (int64_t d : *shape) {
    if (d < 0 || (d > 0 && count > (int64_t{1} << 28) / d))
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     fmt::format("ConstantOfShape of shape [{}] is negative or too large (more "
                                 "than 2^28 elements)",
                                 fmt::join(*shape, ", ")));
    count *= d;
  }
  ConstTensor value = ConstTensor::ofFloats({}, {0.0f});
  if (const onnx::TensorProto *t = n.tensorAttr("value")) {
    auto c = decodeTensor(*t, n.context().model, *n.context().external);
    if (!c)
      return n.locate(c.takeError());
    if (c->numel() != 1)
      return n.error(ErrorCode::OnnxMalformed, "ConstantOfShape's value must have one element");
    value = std::move(*c);
  }
  ir::Shape s(shape->begin(), shape->end());
  const size_t n64 = static_cast<size_t>(count);
  if (value.isInt())
    return defineFolded(n, ConstTensor::ofInts(std::move(s), std::vector<int64_t>(n64, value.ints[0])));
  return defineFolded(n, ConstTensor::ofFloats(std::move(s), std::vector<float>(n64, value.floats[0])));
}

//===----------------------------------------------------------------------===//
// View operators
//===----------------------------------------------------------------------===//

Status lowerIdentity(NodeLowering &n) { return passThrough(n); }

Status lowerDropout(NodeLowering &n) {
  if (n.outputUsed(1))
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Dropout's mask output '{}' is used; gamma imports Dropout for "
                               "inference only, where it has no mask",
                               n.outputName(1)));
  // From opset 12 the ratio and training_mode are inputs; the ratio does not
  // matter at inference, training mode must be off.
  if (n.opset() >= 12 && n.hasInput(2)) {
    auto mode = n.constant(2, "Dropout's training_mode");
    if (!mode)
      return mode.takeError();
    const ConstTensor &m = **mode;
    bool training =
        m.isInt() ? (m.numel() > 0 && m.ints[0] != 0) : (m.numel() > 0 && m.floats[0] != 0.0f);
    if (training)
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     "Dropout in training mode is random; gamma supports inference only");
  }
  return passThrough(n);
}

Status lowerFlatten(NodeLowering &n) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  auto shape = flattenShape(*in, n.intAttr("axis", 1));
  if (!shape)
    return n.locate(shape.takeError());
  return viewAs(n, *shape);
}

Status lowerReshape(NodeLowering &n) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  auto spec = n.constInts(1, "Reshape's target shape");
  if (!spec)
    return spec.takeError();
  bool allowZero = n.opset() >= 14 && n.intAttr("allowzero", 0) != 0;
  auto shape = reshapeShape(*in, *spec, allowZero);
  if (!shape)
    return n.locate(shape.takeError());
  return viewAs(n, *shape);
}

Status lowerSqueeze(NodeLowering &n) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  std::optional<std::vector<int64_t>> axes;
  if (n.opset() >= 13) {
    if (n.hasInput(1)) {
      auto a = n.constInts(1, "Squeeze's axes");
      if (!a)
        return a.takeError();
      axes = std::move(*a);
    }
  } else {
    axes = n.intsAttr("axes");
  }
  auto shape = squeezeShape(*in, axes);
  if (!shape)
    return n.locate(shape.takeError());
  return viewAs(n, *shape);
}

Status lowerUnsqueeze(NodeLowering &n) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  std::vector<int64_t> axes;
  if (n.opset() >= 13) {
    auto a = n.constInts(1, "Unsqueeze's axes");
    if (!a)
      return a.takeError();
    axes = std::move(*a);
  } else if (auto a = n.intsAttr("axes")) {
    axes = std::move(*a);
  } else {
    return n.error(ErrorCode::OnnxMalformed, "Unsqueeze has no 'axes' attribute");
  }
  auto shape = unsqueezeShape(*in, axes);
  if (!shape)
    return n.locate(shape.takeError());
  return viewAs(n, *shape);
}

Status lowerTranspose(NodeLowering &n) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  auto perm = transposePerm(static_cast<int64_t>(in->size()), n.intsAttr("perm"));
  if (!perm)
    return n.locate(perm.takeError());
  auto c = n.maybeConstant(0);
  if (!c)
    return c.takeError();
  if (*c && (*c)->isInt()) {
    n.define(0, transposeInts(**c, *perm));
    return Status::ok();
  }
  return lowerUnary(n, ir::OpKind::Transpose, {{"perm", ir::Attribute::list(*perm)}});
}

//===----------------------------------------------------------------------===//
// Integer shape operators
//===----------------------------------------------------------------------===//

Status lowerShape(NodeLowering &n) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  int64_t rank = static_cast<int64_t>(in->size());
  int64_t start = 0, end = rank;
  if (n.opset() >= 15) {
    start = n.intAttr("start", 0);
    end = n.intAttr("end", rank);
  }
  auto clampAxis = [rank](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
  start = clampAxis(start);
  end = std::max(start, clampAxis(end));
  std::vector<int64_t> dims(in->begin() + start, in->begin() + end);
  int64_t size = end - start;
  return defineFolded(n, ConstTensor::ofInts({size}, std::move(dims)));
}

/// The node's `axis` attribute (default 0) normalised against the rank of
/// input 0, whose shape goes to `shape`.
Expected<int64_t> inputAxis(NodeLowering &n, ir::Shape &shape) {
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  shape = *in;
  auto axis = normalizeAxis(n.intAttr("axis", 0), static_cast<int64_t>(in->size()));
  if (!axis)
    return n.locate(axis.takeError());
  return *axis;
}

Status lowerGather(NodeLowering &n) {
  auto indices = intConstant(n, 1, "Gather's indices");
  if (!indices)
    return indices.takeError();
  auto c = n.maybeConstant(0);
  if (!c)
    return c.takeError();
  if (*c && (*c)->isInt())
    return defineFolded(n, gatherInts(**c, **indices, n.intAttr("axis", 0)));
  // Floats: the IR's gather with the constant indices (a weight's gather,
  // e.g. an embedding table, is folded by the constant folder).
  ir::Shape in;
  auto axis = inputAxis(n, in);
  if (!axis)
    return axis.takeError();
  std::vector<int64_t> idx = (*indices)->ints;
  if (Status ok = normalizeIndices(idx, in[static_cast<size_t>(*axis)]); !ok)
    return n.locate(ok.error());
  return lowerUnary(n, ir::OpKind::Gather,
                    {{"axis", ir::Attribute::scalar(*axis)},
                     {"indices", ir::Attribute::list(std::move(idx))},
                     {"index_shape", ir::Attribute::list((*indices)->shape)}});
}

/// Resize (opset 10+) and Upsample (7-9) in mode "nearest": per resized axis,
/// a gather whose indices are ONNX's nearest source coordinates (the
/// coordinate transformation and the nearest-rounding mode of the node),
/// computed here in double. Other modes (linear, cubic) are E2003.
Status lowerResizeNearest(NodeLowering &n, bool upsample) {
  std::string mode = n.stringAttr("mode").value_or("nearest");
  if (mode != "nearest")
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("{} mode '{}' is not supported (only 'nearest')",
                               upsample ? "Upsample" : "Resize", mode));
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  const size_t rank = in->size();
  // Scales (floats) or sizes (ints): Upsample 7 attribute, Upsample 9 and
  // Resize 10 input 1, Resize 11+ input 2 (scales) or 3 (sizes).
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  auto floatsOf = [&](size_t i) -> Status {
    auto c = n.constant(i, "the scales");
    if (!c)
      return c.takeError();
    if (!(*c)->isFloat())
      return n.error(ErrorCode::OnnxMalformed, "the scales are not floats");
    for (int64_t k = 0; k < (*c)->numel(); ++k)
      scales.push_back((*c)->floats[k]);
    return Status::ok();
  };
  if (upsample && n.opset() < 9) {
    for (float f : n.floatsAttr("scales").value_or(std::vector<float>{}))
      scales.push_back(f);
  } else if (upsample || n.opset() < 11) {
    if (Status s = floatsOf(1); !s)
      return s;
  } else if (n.numInputs() > 3 && n.hasInput(3)) {
    auto s = n.constInts(3, "Resize's sizes");
    if (!s)
      return s.takeError();
    sizes = std::move(*s);
  } else if (n.numInputs() > 2 && n.hasInput(2)) {
    if (Status s = floatsOf(2); !s)
      return s;
  }
  if (sizes.empty() && scales.size() != rank)
    return n.error(ErrorCode::OnnxMalformed,
                   fmt::format("{} needs {} scales or sizes", upsample ? "Upsample" : "Resize", rank));
  if (!sizes.empty() && sizes.size() != rank)
    return n.error(ErrorCode::OnnxMalformed, fmt::format("Resize needs {} sizes", rank));
  const std::string ctm = upsample ? "asymmetric"
                                   : n.stringAttr("coordinate_transformation_mode")
                                         .value_or(n.opset() < 11 ? "asymmetric" : "half_pixel");
  const std::string nearest = upsample || n.opset() < 11
                                  ? "floor"
                                  : n.stringAttr("nearest_mode").value_or("round_prefer_floor");
  static const char *kCtm[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                               "tf_half_pixel_for_nn"};
  static const char *kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (std::find(std::begin(kCtm), std::end(kCtm), ctm) == std::end(kCtm))
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Resize coordinate_transformation_mode '{}' is not supported", ctm));
  if (std::find(std::begin(kNearest), std::end(kNearest), nearest) == std::end(kNearest))
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Resize nearest_mode '{}' is not supported", nearest));
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  ir::ValueId v = *x;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t len = (*in)[d];
    double scale = sizes.empty() ? scales[d] : static_cast<double>(sizes[d]) / len;
    int64_t out = sizes.empty() ? static_cast<int64_t>(std::floor(len * scale)) : sizes[d];
    if (!(scale > 0) || !std::isfinite(scale) || out <= 0 || out > (int64_t{1} << 24))
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     fmt::format("Resize to {} elements (scale {}) along axis {} is not supported",
                                 out, scale, d));
    if (out == len && scale == 1.0)
      continue;
    std::vector<int64_t> idx;
    for (int64_t o = 0; o < out; ++o) {
      double c = ctm == "half_pixel" ? (o + 0.5) / scale - 0.5
                 : ctm == "asymmetric" ? o / scale
                 : ctm == "align_corners" ? (out > 1 ? o * (len - 1.0) / (out - 1.0) : 0.0)
                 : ctm == "pytorch_half_pixel" ? (out > 1 ? (o + 0.5) / scale - 0.5 : 0.0)
                                               : (o + 0.5) / scale; // tf_half_pixel_for_nn
      double r = nearest == "floor"  ? std::floor(c)
                 : nearest == "ceil" ? std::ceil(c)
                 : nearest == "round_prefer_ceil"
                     ? std::floor(c + 0.5)
                     : (c - std::floor(c) == 0.5 ? std::floor(c) : std::round(c));
      idx.push_back(std::clamp<int64_t>(static_cast<int64_t>(r), 0, len - 1));
    }
    auto g = n.emit(ir::OpKind::Gather, {v},
                    {{"axis", ir::Attribute::scalar(static_cast<int64_t>(d))},
                     {"indices", ir::Attribute::list(std::move(idx))},
                     {"index_shape", ir::Attribute::list({out})}});
    if (!g)
      return g.takeError();
    v = *g;
  }
  if (v == *x) // no axis resized
    return passThrough(n);
  n.define(0, v);
  return Status::ok();
}

Status lowerResize(NodeLowering &n) { return lowerResizeNearest(n, false); }
Status lowerUpsample(NodeLowering &n) { return lowerResizeNearest(n, true); }

/// Expand(x, shape): x broadcast with `shape` (both ways, numpy rules).
Status lowerExpand(NodeLowering &n) {
  auto shape = n.constInts(1, "Expand's shape");
  if (!shape)
    return shape.takeError();
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  auto out = ir::broadcastShapes(*in, *shape);
  if (!out)
    return n.locate(out.takeError());
  return lowerUnary(n, ir::OpKind::Expand, {{"shape", ir::Attribute::list(*out)}});
}

/// Split(x[, split]) {axis, split (before opset 13), num_outputs (opset 18)}:
/// one IR slice per output.
Status lowerSplit(NodeLowering &n) {
  ir::Shape in;
  auto axis = inputAxis(n, in);
  if (!axis)
    return axis.takeError();
  const int64_t rank = static_cast<int64_t>(in.size());
  const size_t ax = static_cast<size_t>(*axis);
  const int64_t dim = in[ax];
  const int64_t outs = static_cast<int64_t>(n.numOutputs());
  std::vector<int64_t> split;
  if (n.opset() < 13) {
    split = n.intsAttr("split").value_or(std::vector<int64_t>{});
  } else if (n.hasInput(1)) {
    auto s = n.constInts(1, "Split's split");
    if (!s)
      return s.takeError();
    split = std::move(*s);
  }
  if (split.empty()) { // equal parts; opset 18 allows a smaller last one
    int64_t part = outs > 0 ? (dim + outs - 1) / outs : 0;
    for (int64_t i = 0; i < outs; ++i)
      split.push_back(std::max<int64_t>(0, std::min(part, dim - i * part)));
  }
  int64_t total = 0;
  for (int64_t s : split) {
    if (s < 0 || s > dim)
      return n.error(ErrorCode::OnnxShapeMismatch, fmt::format("Split size {} is invalid", s));
    total += s;
  }
  if (static_cast<int64_t>(split.size()) != outs || total != dim)
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Split sizes do not add up to {} over {} outputs", dim, outs));
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  int64_t first = 0;
  for (int64_t i = 0; i < outs; ++i) {
    std::vector<int64_t> starts(static_cast<size_t>(rank), 0), steps(static_cast<size_t>(rank), 1);
    std::vector<int64_t> sizes(in);
    starts[ax] = split[i] > 0 ? first : 0;
    sizes[ax] = split[i];
    auto r = n.emit(ir::OpKind::Slice, {*x},
                    {{"starts", ir::Attribute::list(starts)},
                     {"steps", ir::Attribute::list(steps)},
                     {"sizes", ir::Attribute::list(sizes)}});
    if (!r)
      return r.takeError();
    n.define(static_cast<size_t>(i), *r);
    first += split[i];
  }
  return Status::ok();
}

Status lowerConcat(NodeLowering &n) {
  if (!n.hasAttr("axis"))
    return n.error(ErrorCode::OnnxMalformed, "Concat has no 'axis' attribute");
  if (n.numInputs() == 0)
    return n.error(ErrorCode::OnnxMalformed, "Concat has no inputs");
  std::vector<const ConstTensor *> parts;
  bool allInts = true;
  for (size_t i = 0; i < n.numInputs() && allInts; ++i) {
    auto c = n.maybeConstant(i);
    if (!c)
      return c.takeError();
    allInts = *c && (*c)->isInt();
    parts.push_back(allInts ? *c : nullptr);
  }
  if (allInts)
    return defineFolded(n, concatInts(parts, n.intAttr("axis", 0)));
  // Floats: the IR's concat op (float weights among the parts stay
  // constants; all-constant concats are folded by the constant folder).
  ir::Shape in;
  auto axis = inputAxis(n, in);
  if (!axis)
    return axis.takeError();
  std::vector<ir::ValueId> operands;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    auto v = n.value(i);
    if (!v)
      return v.takeError();
    operands.push_back(*v);
  }
  auto r = n.emit(ir::OpKind::Concat, operands, {{"axis", ir::Attribute::scalar(*axis)}});
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

Status lowerCast(NodeLowering &n) {
  int to = static_cast<int>(n.intAttr("to", onnx::TensorProto::UNDEFINED));
  if (!isIntType(to) && !isFloatType(to))
    return n.error(ErrorCode::OnnxUnsupportedType,
                   fmt::format("Cast to {} is not supported", onnxTypeName(to)));
  auto c = n.maybeConstant(0);
  if (!c)
    return c.takeError();
  if (!*c) { // An activation: float32 to float stays float32.
    if (!isFloatType(to))
      return n.error(ErrorCode::OnnxUnsupportedType,
                     fmt::format("Cast of an activation to {} is not supported; gamma computes "
                                 "in float32",
                                 onnxTypeName(to)));
    return passThrough(n);
  }
  const ConstTensor &in = **c;
  if (isFloatType(to)) {
    if (in.isFloat())
      return passThrough(n);
    std::vector<float> f(in.ints.begin(), in.ints.end());
    return defineFolded(n, ConstTensor::ofFloats(in.shape, std::move(f)));
  }
  std::vector<int64_t> ints;
  if (in.isInt()) {
    ints = in.ints;
  } else {
    for (int64_t i = 0; i < in.numel(); ++i) {
      float f = in.floats[i];
      if (!std::isfinite(f) || std::fabs(f) >= 0x1p62f)
        return n.error(ErrorCode::OnnxUnsupportedAttr,
                       fmt::format("Cast of {} to an integer overflows", f));
      ints.push_back(static_cast<int64_t>(f)); // Truncates toward zero.
    }
  }
  if (to == onnx::TensorProto::BOOL)
    for (int64_t &v : ints)
      v = v != 0;
  return defineFolded(n, ConstTensor::ofInts(in.shape, std::move(ints)));
}

Status lowerSlice(NodeLowering &n) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.opset() < 10) {
    auto s = n.intsAttr("starts"), e = n.intsAttr("ends");
    if (!s || !e)
      return n.error(ErrorCode::OnnxMalformed, "Slice needs 'starts' and 'ends' attributes");
    starts = std::move(*s);
    ends = std::move(*e);
    axes = n.intsAttr("axes").value_or(std::vector<int64_t>{});
  } else {
    const char *names[] = {"Slice's starts", "Slice's ends", "Slice's axes", "Slice's steps"};
    std::vector<int64_t> *lists[] = {&starts, &ends, &axes, &steps};
    for (size_t i = 0; i < 4; ++i) {
      if (i >= 2 && !n.hasInput(i + 1))
        continue;
      auto v = n.constInts(i + 1, names[i]);
      if (!v)
        return v.takeError();
      *lists[i] = std::move(*v);
    }
  }
  auto c = n.maybeConstant(0);
  if (!c)
    return c.takeError();
  if (*c && (*c)->isInt())
    return defineFolded(n, sliceInts(**c, starts, ends, axes, steps));
  // Floats (an activation, or a weight the constant folder then folds): the
  // IR's slice op with the geometry resolved per dimension.
  auto in = n.shapeOf(0);
  if (!in)
    return in.takeError();
  auto geo = sliceGeometry(*in, starts, ends, axes, steps);
  if (!geo)
    return n.locate(geo.takeError());
  return lowerUnary(n, ir::OpKind::Slice,
                    {{"starts", ir::Attribute::list(geo->starts)},
                     {"steps", ir::Attribute::list(geo->steps)},
                     {"sizes", ir::Attribute::list(geo->sizes)}});
}

Status lowerEqual(NodeLowering &n) {
  auto a = intConstant(n, 0, "Equal's first input");
  if (!a)
    return a.takeError();
  auto b = intConstant(n, 1, "Equal's second input");
  if (!b)
    return b.takeError();
  return defineFolded(n, binaryInts(IntOp::Equal, **a, **b));
}

Status lowerWhere(NodeLowering &n) {
  auto cond = intConstant(n, 0, "Where's condition");
  if (!cond)
    return cond.takeError();
  auto x = intConstant(n, 1, "Where's X");
  if (!x)
    return x.takeError();
  auto y = intConstant(n, 2, "Where's Y");
  if (!y)
    return y.takeError();
  return defineFolded(n, whereInts(**cond, **x, **y));
}

} // namespace gma::frontend

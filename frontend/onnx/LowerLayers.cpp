//===- frontend/onnx/LowerLayers.cpp - Float ONNX operators to IR ops -----===//
//
// The operators that compute on float32 activations and weights: Gemm becomes
// an `affine` op, MatMul a `matmul`, Add/Sub/Mul/Div the elementwise IR ops
// (with numpy broadcasting), Relu/Sigmoid/Neg the activations.
//
// Float constants are never folded here: an op whose operands are all
// constants is emitted on const ops and left to the fold-constants pass, which
// accounts for rounding. The one exception is Gemm's alpha/beta, multiplied
// into the weight and bias so that Gemm stays a single affine op; the
// rounding this introduces is recorded as `ulp_error = 1` (docs/ir.md).
// Integer operands are shape data and fold exactly (ShapeFolding.h).
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/Lowering.h"
#include "frontend/onnx/ShapeFolding.h"

#include <fmt/format.h>

namespace gma::frontend {
namespace {

std::string str(const ir::Shape &s) { return ir::TensorType{s}.str(); }

/// The bias of `affine` for Gemm's C operand: beta * C broadcast to [N].
/// Returns the IR value of the bias const.
Expected<ir::ValueId> gemmBias(NodeLowering &n, int64_t m, int64_t nOut, float beta) {
  ImportContext &ctx = n.context();
  std::string name = n.irLoc() + ".bias";
  if (!n.hasInput(2) || beta == 0.0f)
    return ctx.addWeight(ConstTensor::ofFloats({nOut}, std::vector<float>(nOut, 0.0f)), name);

  auto c = n.constant(2, "Gemm's C operand (the bias)");
  if (!c)
    return c.takeError();
  const ConstTensor &bias = **c;
  if (!bias.isFloat())
    return n.error(ErrorCode::OnnxUnsupportedType, "Gemm's C operand must be float32");
  const ir::Shape &s = bias.shape;
  // C must broadcast to [M, N]; gamma's affine op takes a bias per column, so
  // C may not vary along M.
  int64_t cols = s.empty() ? 1 : s.back();
  int64_t rows = s.size() >= 2 ? s[s.size() - 2] : 1;
  if (s.size() > 2 || (cols != 1 && cols != nOut) || (rows != 1 && rows != m))
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Gemm's C operand {} does not broadcast to the result [{},{}]",
                               str(s), m, nOut));
  if (rows != 1)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Gemm's C operand {} differs between rows; gamma supports a bias "
                               "per output column only",
                               str(s)));

  if (cols == nOut && beta == 1.0f) {
    if (s.size() == 1)
      return n.value(2); // Shared with every other use of the initializer.
    return ctx.addWeight(bias.withShape({nOut}), name); // Same data, no copy.
  }
  std::vector<float> b(nOut);
  for (int64_t j = 0; j < nOut; ++j)
    b[j] = beta * bias.floats[cols == 1 ? 0 : j];
  return ctx.addWeight(ConstTensor::ofFloats({nOut}, std::move(b)), name);
}

/// Elementwise binary op: integer shape data folds, float32 becomes `kind`.
Status lowerBinary(NodeLowering &n, ir::OpKind kind, IntOp intOp) {
  auto a = n.maybeConstant(0);
  if (!a)
    return a.takeError();
  auto b = n.maybeConstant(1);
  if (!b)
    return b.takeError();
  bool aInt = *a && (*a)->isInt(), bInt = *b && (*b)->isInt();
  if (aInt && bInt) {
    auto r = binaryInts(intOp, **a, **b);
    if (!r)
      return n.locate(r.takeError());
    n.define(0, std::move(*r));
    return Status::ok();
  }
  if (aInt || bInt)
    return n.error(ErrorCode::OnnxUnsupportedType,
                   fmt::format("{} mixes integer shape data ('{}') with a float32 tensor",
                               n.opType(), n.inputName(aInt ? 0 : 1)));
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto y = n.value(1);
  if (!y)
    return y.takeError();
  auto r = n.emit(kind, {*x, *y});
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

/// Elementwise float activation `kind`.
Status lowerUnary(NodeLowering &n, ir::OpKind kind) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto r = n.emit(kind, {*x});
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

} // namespace

Status lowerGemm(NodeLowering &n) {
  if (n.intAttr("transA", 0) != 0)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   "transA = 1 is not supported: gamma needs Gemm's A operand (the "
                   "activation) untransposed");
  bool transB = n.intAttr("transB", 0) != 0;
  float alpha = n.floatAttr("alpha", 1.0f);
  float beta = n.floatAttr("beta", 1.0f);

  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto w = n.constant(1, "Gemm's B operand (the weight)");
  if (!w)
    return w.takeError();
  const ConstTensor &weight = **w;
  if (!weight.isFloat())
    return n.error(ErrorCode::OnnxUnsupportedType, "Gemm's B operand must be float32");

  ir::Shape a = n.graph().type(*x).shape; // A copy: adding weights grows the value list.
  if (a.size() != 2)
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Gemm's A operand must be 2-D, but it is {}", str(a)));
  if (weight.shape.size() != 2)
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Gemm's B operand must be 2-D, but it is {}", str(weight.shape)));
  int64_t k = transB ? weight.shape[1] : weight.shape[0];
  int64_t nOut = transB ? weight.shape[0] : weight.shape[1];
  if (a[1] != k)
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Gemm's A is {} but B is {} with transB = {}: the inner sizes {} "
                               "and {} differ",
                               str(a), str(weight.shape), transB ? 1 : 0, a[1], k));

  ir::ValueId wv;
  if (alpha == 1.0f) {
    auto v = n.value(1); // Shared with every other use of the initializer.
    if (!v)
      return v.takeError();
    wv = *v;
  } else {
    std::vector<float> scaled(weight.numel());
    for (int64_t i = 0; i < weight.numel(); ++i)
      scaled[i] = alpha * weight.floats[i];
    wv = n.context().addWeight(ConstTensor::ofFloats(weight.shape, std::move(scaled)),
                               n.irLoc() + ".weight");
  }
  auto bv = gemmBias(n, a[0], nOut, beta);
  if (!bv)
    return bv.takeError();

  ir::Attrs attrs{{"transposed", ir::Attribute::scalar(transB ? 1 : 0)}};
  bool scaledBias = n.hasInput(2) && beta != 1.0f;
  if (alpha != 1.0f || scaledBias)
    attrs["ulp_error"] = ir::Attribute::scalar(1); // One f32 rounding per product.
  auto r = n.emit(ir::OpKind::Affine, {*x, wv, *bv}, std::move(attrs));
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

/// ONNX Conv (1-D to 3-D) → `conv` with explicit strides, pads, dilations
/// and group; auto_pad SAME_UPPER/SAME_LOWER/VALID become explicit pads; a
/// missing bias becomes zeros. The weight must be a constant.
Status lowerConv(NodeLowering &n) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto w = n.constant(1, "Conv's weight");
  if (!w)
    return w.takeError();
  if (!(*w)->isFloat())
    return n.error(ErrorCode::OnnxUnsupportedType, "Conv's weight must be float32");
  ir::Shape xs = n.graph().type(*x).shape, ws = (*w)->shape;
  if (xs.size() < 3 || xs.size() > 5 || ws.size() != xs.size())
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Conv needs an input [N, C, D...] of rank 3 to 5 and a weight of "
                               "the same rank; got {} and {}",
                               str(xs), str(ws)));
  const int64_t k = static_cast<int64_t>(xs.size()) - 2;
  if (auto ks = n.intsAttr("kernel_shape");
      ks && *ks != std::vector<int64_t>(ws.begin() + 2, ws.end()))
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Conv's kernel_shape differs from its weight {}", str(ws)));
  std::vector<int64_t> strides = n.intsAttr("strides").value_or(std::vector<int64_t>(k, 1));
  std::vector<int64_t> dil = n.intsAttr("dilations").value_or(std::vector<int64_t>(k, 1));
  std::vector<int64_t> pads = n.intsAttr("pads").value_or(std::vector<int64_t>(2 * k, 0));
  if (static_cast<int64_t>(strides.size()) != k || static_cast<int64_t>(dil.size()) != k ||
      static_cast<int64_t>(pads.size()) != 2 * k)
    return n.error(ErrorCode::OnnxMalformed,
                   fmt::format("Conv's strides, dilations and pads need {}, {} and {} values", k,
                               k, 2 * k));
  std::string autoPad = n.stringAttr("auto_pad").value_or("NOTSET");
  if (autoPad == "VALID") {
    pads.assign(2 * k, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t d = 0; d < k; ++d) {
      int64_t in = xs[2 + d], s = std::max<int64_t>(strides[d], 1);
      int64_t out = (in + s - 1) / s;
      int64_t total = std::max<int64_t>(
          0, (out - 1) * s + dil[d] * (ws[2 + d] - 1) + 1 - in);
      int64_t small = total / 2, big = total - small;
      pads[d] = autoPad == "SAME_UPPER" ? small : big;
      pads[k + d] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad != "NOTSET") {
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Conv's auto_pad '{}' is not one of NOTSET, SAME_UPPER, "
                               "SAME_LOWER, VALID",
                               autoPad));
  }
  auto wv = n.value(1);
  if (!wv)
    return wv.takeError();
  const int64_t M = ws[0];
  ir::ValueId bv;
  if (n.hasInput(2)) {
    auto b = n.constant(2, "Conv's bias");
    if (!b)
      return b.takeError();
    if (!(*b)->isFloat() || (*b)->numel() != M)
      return n.error(ErrorCode::OnnxShapeMismatch,
                     fmt::format("Conv's bias must be float32 with {} values", M));
    auto v = n.value(2);
    if (!v)
      return v.takeError();
    bv = *v;
  } else {
    bv = n.context().addWeight(ConstTensor::ofFloats({M}, std::vector<float>(M, 0.0f)),
                               n.irLoc() + ".bias");
  }
  ir::Attrs attrs{{"strides", ir::Attribute::list(strides)},
                  {"pads", ir::Attribute::list(pads)},
                  {"dilations", ir::Attribute::list(dil)},
                  {"group", ir::Attribute::scalar(n.intAttr("group", 1))}};
  auto r = n.emit(ir::OpKind::Conv, {*x, *wv, bv}, std::move(attrs));
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

Status lowerMatMul(NodeLowering &n) {
  auto a = n.value(0);
  if (!a)
    return a.takeError();
  auto b = n.value(1);
  if (!b)
    return b.takeError();
  auto r = n.emit(ir::OpKind::MatMul, {*a, *b});
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

Status lowerAdd(NodeLowering &n) { return lowerBinary(n, ir::OpKind::Add, IntOp::Add); }
Status lowerSub(NodeLowering &n) { return lowerBinary(n, ir::OpKind::Sub, IntOp::Sub); }
Status lowerMul(NodeLowering &n) { return lowerBinary(n, ir::OpKind::Mul, IntOp::Mul); }
Status lowerDiv(NodeLowering &n) { return lowerBinary(n, ir::OpKind::Div, IntOp::Div); }

Status lowerRelu(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Relu); }
Status lowerSigmoid(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Sigmoid); }

/// LeakyRelu(alpha): leaky_relu %x, %alpha with alpha a 0-d constant. The
/// relaxation needs 0 <= alpha <= 1 (convex); other slopes are refused.
Status lowerLeakyRelu(NodeLowering &n) {
  float alpha = n.floatAttr("alpha", 0.01f);
  if (!(alpha >= 0.0f && alpha <= 1.0f))
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("LeakyRelu alpha = {} is not supported: gamma bounds slopes "
                               "0 <= alpha <= 1",
                               alpha));
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  ir::ValueId a = n.context().addWeight(ConstTensor::ofFloats({}, {alpha}), n.irLoc() + ".alpha");
  auto r = n.emit(ir::OpKind::LeakyRelu, {*x, a});
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

Status lowerNeg(NodeLowering &n) {
  auto c = n.maybeConstant(0);
  if (!c)
    return c.takeError();
  if (*c && (*c)->isInt()) {
    ConstTensor neg = **c;
    for (int64_t &v : neg.ints)
      v = static_cast<int64_t>(0 - static_cast<uint64_t>(v));
    n.define(0, std::move(neg));
    return Status::ok();
  }
  return lowerUnary(n, ir::OpKind::Neg);
}

} // namespace gma::frontend

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

#include <algorithm>
#include <cmath>
#include <limits>
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
} // namespace

Status lowerUnary(NodeLowering &n, ir::OpKind kind, ir::Attrs attrs) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto r = n.emit(kind, {*x}, std::move(attrs));
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

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
namespace {

struct WindowGeometry {
  std::vector<int64_t> strides, dilations, pads;
};

/// The strides, dilations and pads (begin..., end...) of a sliding-window
/// op over `xs` = [N, C, D...] with window `kernel`, auto_pad resolved.
Expected<WindowGeometry> windowGeometry(NodeLowering &n, const ir::Shape &xs,
                                        const std::vector<int64_t> &kernel, const char *op) {
  const int64_t k = static_cast<int64_t>(kernel.size());
  WindowGeometry g;
  g.strides = n.intsAttr("strides").value_or(std::vector<int64_t>(k, 1));
  g.dilations = n.intsAttr("dilations").value_or(std::vector<int64_t>(k, 1));
  g.pads = n.intsAttr("pads").value_or(std::vector<int64_t>(2 * k, 0));
  if (static_cast<int64_t>(g.strides.size()) != k ||
      static_cast<int64_t>(g.dilations.size()) != k ||
      static_cast<int64_t>(g.pads.size()) != 2 * k)
    return n.error(ErrorCode::OnnxMalformed,
                   fmt::format("{}'s strides, dilations and pads need {}, {} and {} values", op,
                               k, k, 2 * k));
  std::string autoPad = n.stringAttr("auto_pad").value_or("NOTSET");
  if (autoPad == "VALID") {
    g.pads.assign(2 * k, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t d = 0; d < k; ++d) {
      int64_t in = xs[2 + d], s = std::max<int64_t>(g.strides[d], 1);
      int64_t out = (in + s - 1) / s;
      int64_t total =
          std::max<int64_t>(0, (out - 1) * s + g.dilations[d] * (kernel[d] - 1) + 1 - in);
      int64_t small = total / 2, big = total - small;
      g.pads[d] = autoPad == "SAME_UPPER" ? small : big;
      g.pads[k + d] = autoPad == "SAME_UPPER" ? big : small;
    }
  } else if (autoPad != "NOTSET") {
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("{}'s auto_pad '{}' is not one of NOTSET, SAME_UPPER, "
                               "SAME_LOWER, VALID",
                               op, autoPad));
  }
  return g;
}

/// Average pooling as a sum and a division: a depthwise conv with weights 1
/// (exact: no weight rounds) and a `div` by the number of taps each output
/// averages — one scalar, or, when padding is excluded from the count, a
/// constant map of per-position counts [1, 1, out...]. The division rounds
/// once, as the op's own definition does, and the kernels' div rule charges
/// it; a weight 1/k would not be exact for k = 9.
Status lowerPool(NodeLowering &n, ir::ValueId x, const ir::Shape &xs,
                 const std::vector<int64_t> &kernel, const WindowGeometry &geo,
                 bool countPads) {
  const int64_t k = static_cast<int64_t>(kernel.size()), C = xs[1];
  int64_t taps = 1;
  for (int64_t d = 0; d < k; ++d) {
    if (kernel[d] < 1 || geo.strides[d] < 1 || geo.dilations[d] < 1)
      return n.error(ErrorCode::OnnxMalformed,
                     "pooling window, strides and dilations must be positive");
    taps *= kernel[d];
    if (taps > (int64_t(1) << 24)) // exact as a float count, and no overflow
      return n.error(ErrorCode::OnnxUnsupportedAttr, "a pooling window of more than 2^24 taps "
                                                     "is not supported");
  }
  ir::Shape wshape{C, 1};
  wshape.insert(wshape.end(), kernel.begin(), kernel.end());
  ImportContext &ctx = n.context();
  ir::ValueId w = ctx.addWeight(
      ConstTensor::ofFloats(wshape, std::vector<float>(static_cast<size_t>(C * taps), 1.0f)),
      n.irLoc() + ".ones");
  ir::ValueId b = ctx.addWeight(ConstTensor::ofFloats({C}, std::vector<float>(C, 0.0f)),
                                n.irLoc() + ".zero");
  ir::Attrs attrs{{"strides", ir::Attribute::list(geo.strides)},
                  {"pads", ir::Attribute::list(geo.pads)},
                  {"dilations", ir::Attribute::list(geo.dilations)},
                  {"group", ir::Attribute::scalar(C)}};
  auto sum = n.emit(ir::OpKind::Conv, {x, w, b}, std::move(attrs));
  if (!sum)
    return sum.takeError();
  const ir::Shape &ys = n.graph().type(*sum).shape;
  bool padded = std::any_of(geo.pads.begin(), geo.pads.end(), [](int64_t p) { return p != 0; });
  ir::ValueId count;
  if (countPads || !padded) {
    count = ctx.addWeight(ConstTensor::ofFloats({}, {static_cast<float>(taps)}),
                          n.irLoc() + ".count");
  } else {
    // Taps of output position o along dimension d that fall inside the input.
    std::vector<std::vector<int64_t>> inside(k);
    for (int64_t d = 0; d < k; ++d)
      for (int64_t o = 0; o < ys[2 + d]; ++o) {
        int64_t c = 0;
        for (int64_t t = 0; t < kernel[d]; ++t) {
          int64_t i = o * geo.strides[d] - geo.pads[d] + t * geo.dilations[d];
          c += i >= 0 && i < xs[2 + d];
        }
        inside[d].push_back(c);
      }
    ir::Shape cshape{1, 1};
    cshape.insert(cshape.end(), ys.begin() + 2, ys.end());
    int64_t positions = 1;
    for (int64_t d = 0; d < k; ++d)
      positions *= ys[2 + d];
    std::vector<float> counts(static_cast<size_t>(positions));
    for (int64_t p = 0; p < positions; ++p) {
      int64_t rest = p, c = 1;
      for (int64_t d = k - 1; d >= 0; --d) {
        c *= inside[d][rest % ys[2 + d]];
        rest /= ys[2 + d];
      }
      if (c == 0)
        return n.error(ErrorCode::OnnxUnsupportedAttr,
                       "a pooling window lies entirely in the padding (no input to average)");
      counts[p] = static_cast<float>(c);
    }
    count = ctx.addWeight(ConstTensor::ofFloats(cshape, std::move(counts)), n.irLoc() + ".count");
  }
  auto avg = n.emit(ir::OpKind::Div, {*sum, count});
  if (!avg)
    return avg.takeError();
  n.define(0, *avg);
  return Status::ok();
}

Expected<ir::Shape> poolInput(NodeLowering &n, ir::ValueId x, const char *op) {
  ir::Shape xs = n.graph().type(x).shape;
  if (xs.size() < 3 || xs.size() > 5)
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("{} needs an input [N, C, D...] of rank 3 to 5; got {}", op,
                               str(xs)));
  return xs;
}

} // namespace

namespace {

/// What AveragePool and MaxPool read first: the input, its shape, the window
/// and its geometry (ceil_mode 0 only).
struct PoolSetup {
  ir::ValueId x;
  ir::Shape xs;
  std::vector<int64_t> kernel;
  WindowGeometry geo;
};

Expected<PoolSetup> poolSetup(NodeLowering &n, const char *op) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto xs = poolInput(n, *x, op);
  if (!xs)
    return xs.takeError();
  auto kernel = n.intsAttr("kernel_shape");
  if (!kernel || kernel->size() != xs->size() - 2)
    return n.error(ErrorCode::OnnxMalformed,
                   fmt::format("{} needs kernel_shape with {} values", op, xs->size() - 2));
  if (n.intAttr("ceil_mode", 0) != 0)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("{} with ceil_mode = 1 is not supported (its last windows may "
                               "start in the padding; export with ceil_mode=False)",
                               op));
  auto geo = windowGeometry(n, *xs, *kernel, op);
  if (!geo)
    return geo.takeError();
  return PoolSetup{*x, *xs, *kernel, *geo};
}

} // namespace

Status lowerAveragePool(NodeLowering &n) {
  auto p = poolSetup(n, "AveragePool");
  if (!p)
    return p.takeError();
  return lowerPool(n, p->x, p->xs, p->kernel, p->geo, n.intAttr("count_include_pad", 0) != 0);
}

/// MaxPool (ceil_mode 0, one output) as gathers and a chain of maxima:
/// x flattened, one gather per window tap (tap t of output o reads the
/// input element under it; a tap in the padding reads the window's first
/// element inside the input instead, which leaves the maximum unchanged),
/// then m = max(m, g_t) over the taps (the `max` op: exact interval, CROWN
/// lines in ir/ops/Activations.cpp), reshaped to [N, C, out...].
Status lowerMaxPool(NodeLowering &n) {
  if (n.numOutputs() > 1 && n.outputUsed(1))
    return n.error(ErrorCode::OnnxUnsupportedAttr, "MaxPool's Indices output is not supported");
  auto setup = poolSetup(n, "MaxPool");
  if (!setup)
    return setup.takeError();
  const ir::Shape &xs = setup->xs;
  const std::vector<int64_t> &kernel = setup->kernel;
  const WindowGeometry &geo = setup->geo;
  const size_t k = kernel.size();
  int64_t taps = 1;
  ir::Shape ys = {xs[0], xs[1]};
  for (size_t d = 0; d < k; ++d) {
    const int64_t kd = kernel[d], st = geo.strides[d], dil = geo.dilations[d];
    if (kd < 1 || st < 1 || dil < 1)
      return n.error(ErrorCode::OnnxMalformed, "pooling window, strides and dilations must be positive");
    taps *= kd;
    int64_t span = dil * (kd - 1) + 1;
    int64_t padded = xs[2 + d] + geo.pads[d] + geo.pads[k + d];
    if (taps > 4096 || padded < span)
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     fmt::format("MaxPool window of {} taps over {} elements is not supported", taps,
                                 padded));
    ys.push_back((padded - span) / st + 1);
  }
  int64_t outNumel = 1, inNumel = 1;
  for (int64_t d : ys)
    outNumel *= d;
  for (int64_t d : xs)
    inNumel *= d;
  if (outNumel * taps > (int64_t(1) << 24))
    return n.error(ErrorCode::OnnxUnsupportedAttr, "MaxPool with more than 2^24 window reads");
  ir::Shape inStrides(xs.size(), 1);
  for (size_t d = xs.size() - 1; d-- > 0;)
    inStrides[d] = inStrides[d + 1] * xs[d + 1];
  // Source of (output element, tap), -1 in the padding.
  std::vector<std::vector<int64_t>> src(static_cast<size_t>(taps),
                                        std::vector<int64_t>(static_cast<size_t>(outNumel)));
  std::vector<int64_t> o(ys.size(), 0);
  for (int64_t e = 0; e < outNumel; ++e) {
    int64_t first = -1;
    for (int64_t t = 0; t < taps; ++t) {
      int64_t rest = t, at = o[0] * inStrides[0] + o[1] * inStrides[1];
      bool inside = true;
      for (size_t d = k; d-- > 0;) {
        int64_t td = rest % kernel[d];
        rest /= kernel[d];
        int64_t i = o[2 + d] * geo.strides[d] - geo.pads[d] + td * geo.dilations[d];
        inside = inside && i >= 0 && i < xs[2 + d];
        at += i * inStrides[2 + d];
      }
      src[t][e] = inside ? at : -1;
      if (inside && first < 0)
        first = at;
    }
    if (first < 0)
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     "a MaxPool window lies entirely in the padding (no input to take the maximum of)");
    for (int64_t t = 0; t < taps; ++t)
      if (src[t][e] < 0)
        src[t][e] = first;
    for (size_t d = ys.size(); d-- > 0;) { // next output multi-index
      if (++o[d] < ys[d])
        break;
      o[d] = 0;
    }
  }
  ir::TensorType flat{{inNumel}};
  auto xf = n.emit(ir::OpKind::Reshape, {setup->x}, {}, &flat);
  if (!xf)
    return xf.takeError();
  std::optional<ir::ValueId> m;
  for (int64_t t = 0; t < taps; ++t) {
    auto g = n.emit(ir::OpKind::Gather, {*xf},
                    {{"axis", ir::Attribute::scalar(int64_t{0})},
                     {"indices", ir::Attribute::list(std::move(src[t]))},
                     {"index_shape", ir::Attribute::list({outNumel})}});
    if (!g)
      return g.takeError();
    if (!m) {
      m = *g;
      continue;
    }
    auto next = n.emit(ir::OpKind::Max, {*m, *g});
    if (!next)
      return next.takeError();
    m = *next;
  }
  ir::TensorType out{ys};
  auto r = n.emit(ir::OpKind::Reshape, {*m}, {}, &out);
  if (!r)
    return r.takeError();
  n.define(0, *r);
  return Status::ok();
}

/// Max(x_1, ..., x_k) of activations of one shape: a chain of `max`. A
/// constant operand or broadcasting is E2003.
Status lowerMax(NodeLowering &n) {
  if (n.numInputs() == 0)
    return n.error(ErrorCode::OnnxMalformed, "Max needs at least one input");
  auto first = n.value(0);
  if (!first)
    return first.takeError();
  ir::ValueId m = *first;
  for (size_t i = 1; i < n.numInputs(); ++i) {
    auto x = n.value(i);
    if (!x)
      return x.takeError();
    if (n.graph().isConstant(*x) || n.graph().isConstant(m))
      return n.error(ErrorCode::OnnxUnsupportedAttr, "Max with a constant operand is not supported");
    if (n.graph().type(*x).shape != n.graph().type(m).shape)
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     fmt::format("Max of shapes {} and {} (broadcasting) is not supported",
                                 str(n.graph().type(m).shape), str(n.graph().type(*x).shape)));
    if (*x == m) // max(x, x) = x
      continue;
    auto next = n.emit(ir::OpKind::Max, {m, *x});
    if (!next)
      return next.takeError();
    m = *next;
  }
  n.define(0, m);
  return Status::ok();
}

Status lowerGlobalAveragePool(NodeLowering &n) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  auto xs = poolInput(n, *x, "GlobalAveragePool");
  if (!xs)
    return xs.takeError();
  std::vector<int64_t> kernel(xs->begin() + 2, xs->end());
  const size_t k = kernel.size();
  WindowGeometry geo{std::vector<int64_t>(k, 1), std::vector<int64_t>(k, 1),
                     std::vector<int64_t>(2 * k, 0)};
  return lowerPool(n, *x, *xs, kernel, geo, true);
}

namespace {

/// `kind x, c` (or `kind c, x` with `constFirst`) for a 0-d constant c.
Expected<ir::ValueId> emitWithScalar(NodeLowering &n, ir::OpKind kind, ir::ValueId x, float c,
                                     const char *suffix, bool constFirst = false) {
  ir::ValueId k = n.context().addWeight(ConstTensor::ofFloats({}, {c}), n.irLoc() + suffix);
  return n.emit(kind, constFirst ? std::vector<ir::ValueId>{k, x} : std::vector<ir::ValueId>{x, k});
}

/// ReduceSum / ReduceMean over one block of adjacent axes. With x viewed as
/// [A, K, B] (K: the reduced axes' elements), the sum is a grouped 1-D conv
/// of [1, A·K, B] with A groups of K channels, weight 1 and bias 0 — an exact
/// sum whose kernels and relaxations are the conv family's, with no dense
/// matrix — and the mean then divides by K once, as AveragePool does (a
/// weight 1/K would not be exact). `axesInputOpset`: the opset from which
/// the axes are input 1 rather than an attribute (ReduceSum 13, ReduceMean 18).
Status lowerReduce(NodeLowering &n, const char *op, bool mean, int64_t axesInputOpset) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  const ir::Shape xs = n.graph().type(*x).shape;
  const int64_t r = static_cast<int64_t>(xs.size());
  std::vector<int64_t> axes;
  bool axesGiven = false;
  if (n.opset() >= axesInputOpset) {
    if (n.numInputs() > 1 && n.hasInput(1)) {
      auto a = n.constInts(1, fmt::format("{}'s axes", op).c_str());
      if (!a)
        return a.takeError();
      axes = std::move(*a);
      axesGiven = true;
    }
  } else if (auto a = n.intsAttr("axes")) {
    axes = std::move(*a);
    axesGiven = true;
  }
  if (!axesGiven || axes.empty()) {
    if (n.opset() >= axesInputOpset && n.intAttr("noop_with_empty_axes", 0) != 0) {
      auto id = n.emit(ir::OpKind::Identity, {*x});
      if (!id)
        return id.takeError();
      n.define(0, *id);
      return Status::ok();
    }
    axes.clear();
    for (int64_t a = 0; a < r; ++a)
      axes.push_back(a);
  }
  for (int64_t &a : axes) {
    auto axis = normalizeAxis(a, r);
    if (!axis)
      return n.locate(axis.takeError());
    a = *axis;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return n.error(ErrorCode::OnnxShapeMismatch, fmt::format("{} names an axis twice", op));
  std::vector<bool> reduced(static_cast<size_t>(r), false);
  for (int64_t a : axes)
    reduced[a] = true;
  // Axes that are not adjacent are made so by a transpose that moves them,
  // in order, behind the others (the result's element order is unchanged:
  // the kept axes stay in order).
  ir::ValueId v = *x;
  ir::Shape ws = xs;
  int64_t lo = axes.front(), hi = axes.back();
  if (hi - lo + 1 != static_cast<int64_t>(axes.size())) {
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < r; ++d)
      if (!reduced[d])
        perm.push_back(d);
    perm.insert(perm.end(), axes.begin(), axes.end());
    auto t = n.emit(ir::OpKind::Transpose, {v}, {{"perm", ir::Attribute::list(perm)}});
    if (!t)
      return t.takeError();
    v = *t;
    for (int64_t d = 0; d < r; ++d)
      ws[d] = xs[perm[d]];
    lo = r - static_cast<int64_t>(axes.size());
    hi = r - 1;
  }
  int64_t A = 1, K = 1, B = 1;
  for (int64_t d = 0; d < r; ++d)
    (d < lo ? A : d <= hi ? K : B) *= ws[d];
  if (K > (int64_t(1) << 24)) // exact as a float count
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("{} over more than 2^24 elements is not supported", op));
  const bool keepDims = n.intAttr("keepdims", 1) != 0;
  ir::Shape outShape;
  for (int64_t d = 0; d < r; ++d) {
    if (!reduced[d])
      outShape.push_back(xs[d]);
    else if (keepDims)
      outShape.push_back(1);
  }
  if (K > 1) {
    ImportContext &ctx = n.context();
    ir::TensorType flat{ir::Shape{1, A * K, B}};
    auto in = n.emit(ir::OpKind::Reshape, {v}, {}, &flat);
    if (!in)
      return in.takeError();
    ir::ValueId w = ctx.addWeight(
        ConstTensor::ofFloats({A, K, 1}, std::vector<float>(static_cast<size_t>(A * K), 1.0f)),
        n.irLoc() + ".ones");
    ir::ValueId b = ctx.addWeight(
        ConstTensor::ofFloats({A}, std::vector<float>(static_cast<size_t>(A), 0.0f)),
        n.irLoc() + ".zero");
    ir::Attrs attrs{{"strides", ir::Attribute::list({1})},
                    {"pads", ir::Attribute::list({0, 0})},
                    {"dilations", ir::Attribute::list({1})},
                    {"group", ir::Attribute::scalar(A)}};
    auto sum = n.emit(ir::OpKind::Conv, {*in, w, b}, std::move(attrs));
    if (!sum)
      return sum.takeError();
    v = *sum;
    if (mean) {
      auto avg = emitWithScalar(n, ir::OpKind::Div, v, static_cast<float>(K), ".count");
      if (!avg)
        return avg.takeError();
      v = *avg;
    }
  }
  ir::TensorType out{std::move(outShape)};
  auto res = n.emit(ir::OpKind::Reshape, {v}, {}, &out);
  if (!res)
    return res.takeError();
  n.define(0, *res);
  return Status::ok();
}

} // namespace

Status lowerReduceSum(NodeLowering &n) { return lowerReduce(n, "ReduceSum", false, 13); }
Status lowerReduceMean(NodeLowering &n) { return lowerReduce(n, "ReduceMean", true, 18); }

// Constant zero padding of the spatial dimensions, as a depthwise 1x1 conv
// with weight 1 whose own pads are the Pad's: exact (x·1 + 0), and the conv
// family's kernels and relaxations then cover it. Zero pads are the identity
// (torch.onnx emits such a Pad before AvgPool2d with count_include_pad).
Status lowerPad(NodeLowering &n) {
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  ir::Shape xs = n.graph().type(*x).shape;
  const int64_t r = static_cast<int64_t>(xs.size());
  std::string mode = n.stringAttr("mode").value_or("constant");
  if (mode != "constant")
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Pad mode '{}' is not supported (only 'constant')", mode));
  std::vector<int64_t> pads;
  float value = 0.0f;
  if (n.opset() < 11) {
    pads = n.intsAttr("pads").value_or(std::vector<int64_t>{});
    value = n.floatAttr("value", 0.0f);
  } else {
    auto p = n.constInts(1, "Pad's pads");
    if (!p)
      return p.takeError();
    pads = std::move(*p);
    if (n.hasInput(2)) {
      auto v = n.constant(2, "Pad's constant_value");
      if (!v)
        return v.takeError();
      if (!(*v)->isFloat() || (*v)->numel() != 1)
        return n.error(ErrorCode::OnnxUnsupportedType,
                       "Pad's constant_value must be one float32");
      value = (*v)->floats[0];
    }
    if (n.hasInput(3)) {
      // opset 18: pads for the listed axes only.
      auto axes = n.constInts(3, "Pad's axes");
      if (!axes)
        return axes.takeError();
      if (pads.size() != 2 * axes->size())
        return n.error(ErrorCode::OnnxMalformed, "Pad needs two pads per listed axis");
      std::vector<int64_t> full(2 * r, 0);
      for (size_t i = 0; i < axes->size(); ++i) {
        int64_t a = (*axes)[i] < 0 ? (*axes)[i] + r : (*axes)[i];
        if (a < 0 || a >= r)
          return n.error(ErrorCode::OnnxMalformed,
                         fmt::format("Pad's axis {} is out of range for rank {}", (*axes)[i], r));
        full[a] = pads[i];
        full[r + a] = pads[axes->size() + i];
      }
      pads = std::move(full);
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * r)
    return n.error(ErrorCode::OnnxMalformed,
                   fmt::format("Pad needs {} pads for a rank-{} input; got {}", 2 * r, r,
                               pads.size()));
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return lowerIdentity(n); // an `identity`, elided by elide-copies
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
    return n.error(ErrorCode::OnnxUnsupportedAttr, "Pad with negative pads (cropping) is not "
                                                   "supported");
  if (value != 0.0f)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Pad with the constant {} is not supported (only 0)", value));
  if (r < 3 || r > 5 || pads[0] || pads[1] || pads[r] || pads[r + 1])
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   "Pad is supported on the spatial dimensions of [N, C, D...] (rank 3 to 5) "
                   "only, not on the batch or channel dimension");
  const int64_t k = r - 2, C = xs[1];
  ir::Shape wshape{C, 1};
  wshape.insert(wshape.end(), k, 1);
  ImportContext &ctx = n.context();
  ir::ValueId w = ctx.addWeight(ConstTensor::ofFloats(wshape, std::vector<float>(C, 1.0f)),
                                n.irLoc() + ".ones");
  ir::ValueId b = ctx.addWeight(ConstTensor::ofFloats({C}, std::vector<float>(C, 0.0f)),
                                n.irLoc() + ".zero");
  std::vector<int64_t> cpads;
  for (int64_t d = 0; d < k; ++d)
    cpads.push_back(pads[2 + d]);
  for (int64_t d = 0; d < k; ++d)
    cpads.push_back(pads[r + 2 + d]);
  ir::Attrs attrs{{"strides", ir::Attribute::list(std::vector<int64_t>(k, 1))},
                  {"pads", ir::Attribute::list(cpads)},
                  {"dilations", ir::Attribute::list(std::vector<int64_t>(k, 1))},
                  {"group", ir::Attribute::scalar(C)}};
  auto y = n.emit(ir::OpKind::Conv, {*x, w, b}, std::move(attrs));
  if (!y)
    return y.takeError();
  n.define(0, *y);
  return Status::ok();
}

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
  if (auto ks = n.intsAttr("kernel_shape");
      ks && *ks != std::vector<int64_t>(ws.begin() + 2, ws.end()))
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("Conv's kernel_shape differs from its weight {}", str(ws)));
  auto geo = windowGeometry(n, xs, std::vector<int64_t>(ws.begin() + 2, ws.end()), "Conv");
  if (!geo)
    return geo.takeError();
  auto &[strides, dil, pads] = *geo;
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

/// BatchNormalization at inference: (x - mean) / sqrt(var + eps) · scale + B
/// per channel (axis 1), emitted as those four elementwise ops on constants
/// of shape [1, C, 1...], with sqrt(var + eps) computed in f32 as the ONNX
/// reference implementation does. Each op's rounding is then the kernels'
/// to bound; fold-normalization merges the chain into a following Gemm.
Status lowerBatchNormalization(NodeLowering &n) {
  for (size_t i = 1; i < n.numOutputs(); ++i)
    if (n.outputUsed(i))
      return n.error(ErrorCode::OnnxUnsupportedAttr,
                     fmt::format("BatchNormalization's training output '{}' is used; gamma "
                                 "imports it for inference only",
                                 n.outputName(i)));
  if (n.intAttr("training_mode", 0) != 0)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   "BatchNormalization with training_mode = 1 is not supported");
  if (n.intAttr("spatial", 1) != 1)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   "BatchNormalization with spatial = 0 is not supported");
  (void)n.floatAttr("momentum", 0.9f); // training only
  const float eps = n.floatAttr("epsilon", 1e-5f);
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  ir::Shape xs = n.graph().type(*x).shape;
  if (xs.size() < 2)
    return n.error(ErrorCode::OnnxShapeMismatch,
                   fmt::format("BatchNormalization needs an input [N, C, ...]; got {}", str(xs)));
  const int64_t C = xs[1];
  const char *names[] = {"scale", "B", "input_mean", "input_var"};
  std::vector<const float *> p;
  for (size_t i = 0; i < 4; ++i) {
    auto c = n.constant(i + 1, names[i]);
    if (!c)
      return c.takeError();
    if (!(*c)->isFloat() || (*c)->numel() != C)
      return n.error(ErrorCode::OnnxShapeMismatch,
                     fmt::format("BatchNormalization's {} must be float32 with {} values",
                                 names[i], C));
    p.push_back((*c)->floats);
  }
  std::vector<float> d(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    float v = p[3][c] + eps; // f32, as the reference implementation
    d[c] = std::sqrt(v);
    if (!(d[c] > 0.0f) || !std::isfinite(d[c]))
      return n.error(ErrorCode::OnnxMalformed,
                     fmt::format("BatchNormalization channel {}: sqrt(var + epsilon) = {} is "
                                 "not a positive finite number",
                                 c, d[c]));
  }
  ir::Shape cs(xs.size(), 1);
  cs[1] = C;
  ImportContext &ctx = n.context();
  auto constant = [&](const float *data, const char *suffix) {
    return ctx.addWeight(ConstTensor::ofFloats(cs, std::vector<float>(data, data + C)),
                         n.irLoc() + suffix);
  };
  ir::ValueId v = *x;
  struct Step {
    ir::OpKind kind;
    const float *data;
    const char *suffix;
  };
  for (const Step &s : {Step{ir::OpKind::Sub, p[2], ".mean"}, Step{ir::OpKind::Div, d.data(), ".std"},
                        Step{ir::OpKind::Mul, p[0], ".scale"}, Step{ir::OpKind::Add, p[1], ".bias"}}) {
    auto r = n.emit(s.kind, {v, constant(s.data, s.suffix)});
    if (!r)
      return r.takeError();
    v = *r;
  }
  n.define(0, v);
  return Status::ok();
}

Status lowerRelu(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Relu); }
Status lowerSigmoid(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Sigmoid); }
Status lowerSoftplus(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Softplus); }

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

namespace {


/// One op of a chain on x: `kind x, c` (`kind c, x` with constFirst) for a
/// 0-d constant c, or a unary activation.
struct ScalarStep {
  ir::OpKind kind;
  float c = 0;
  const char *suffix = nullptr; ///< null: `kind` is unary
  bool constFirst = false;
  static ScalarStep unary(ir::OpKind k) { return {k}; }
};
Expected<ir::ValueId> emitChain(NodeLowering &n, ir::ValueId x,
                                std::initializer_list<ScalarStep> steps) {
  for (const ScalarStep &st : steps) {
    auto r = st.suffix ? emitWithScalar(n, st.kind, x, st.c, st.suffix, st.constFirst)
                       : n.emit(st.kind, {x});
    if (!r)
      return r.takeError();
    x = *r;
  }
  return x;
}

} // namespace

/// Tanh and Exp: rows of the scalar table (abi/ScalarRelax.h), ops of their
/// own (f32 values are tanhf's and expf's).
Status lowerTanh(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Tanh); }
Status lowerExp(NodeLowering &n) { return lowerUnary(n, ir::OpKind::Exp); }

/// Clip(x, a, b) = min(max(x, a), b) through ReLUs, exactly in real
/// arithmetic and with no rounded constant: max(x, a) = relu(x - a) + a and
/// min(y, b) = b - relu(b - y). A missing or infinite bound drops its half.
/// Opset < 11: attributes min/max; later: optional constant inputs 1 and 2.
Status lowerClip(NodeLowering &n) {
  auto bound = [&](size_t input, const char *attr, float &out,
                   bool &present) -> Status {
    present = false;
    if (n.opset() < 11) {
      if (!n.hasAttr(attr))
        return Status::ok();
      out = n.floatAttr(attr, 0.0f);
    } else {
      if (input >= n.numInputs() || !n.hasInput(input))
        return Status::ok();
      auto c = n.constant(input, input == 1 ? "Clip's min" : "Clip's max");
      if (!c)
        return c.takeError();
      if (!(*c)->isFloat() || (*c)->numel() != 1)
        return n.error(ErrorCode::OnnxUnsupportedType,
                       fmt::format("Clip's {} must be one float32 value", attr));
      out = (*c)->floats[0];
    }
    if (std::isnan(out))
      return n.error(ErrorCode::OnnxUnsupportedAttr, fmt::format("Clip's {} is NaN", attr));
    // ±FLT_MAX is how exporters (and opset 6's defaults) say "no bound".
    present = std::fabs(out) < std::numeric_limits<float>::max();
    return Status::ok();
  };
  float a = 0, b = 0;
  bool hasA = false, hasB = false;
  if (Status st = bound(1, "min", a, hasA); !st)
    return st;
  if (Status st = bound(2, "max", b, hasB); !st)
    return st;
  if (hasA && hasB && a > b)
    return n.error(ErrorCode::OnnxUnsupportedAttr,
                   fmt::format("Clip with min {} > max {} (a constant output) is not supported",
                               a, b));
  auto x = n.value(0);
  if (!x)
    return x.takeError();
  ir::ValueId v = *x;
  if (hasA) {
    auto r = emitChain(n, v, {{ir::OpKind::Sub, a, ".min"}, ScalarStep::unary(ir::OpKind::Relu),
                              {ir::OpKind::Add, a, ".min_back"}});
    if (!r)
      return r.takeError();
    v = *r;
  }
  if (hasB) {
    auto r = emitChain(n, v, {{ir::OpKind::Sub, b, ".max", true}, ScalarStep::unary(ir::OpKind::Relu),
                              {ir::OpKind::Sub, b, ".max_back", true}});
    if (!r)
      return r.takeError();
    v = *r;
  }
  if (v == *x) // no bound: an identity
    return lowerIdentity(n);
  n.define(0, v);
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

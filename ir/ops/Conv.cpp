//===- ir/ops/Conv.cpp - conv (ONNX Conv, 1-D to 3-D) ---------------------===//
//
// A linear op in its activation, never densified: every rule walks the
// taps, the (output element, input element, weight element) triples the
// convolution sums over (padding taps are skipped). The interval rule is
// the centre/radius form of affine with its margin (K + 4)·2^-53·mag, K the
// taps of that output; the CROWN rule is the transposed convolution of Λ,
// with affine's charges (docs/soundness.md) over the taps.
//
//===----------------------------------------------------------------------===//
#include "ir/ConvGeometry.h"
#include "ir/CrownRule.h"
#include "ir/Rounding.h"
#include "ir/ops/OpSupport.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gma::ir {
using namespace ops;
namespace {

} // namespace

Expected<ConvGeometry> convGeometry(const TensorType &x, const TensorType &w, const Attrs &attrs) {
  if (x.rank() < 3 || w.rank() != x.rank())
    return shapeError(fmt::format("conv needs an input [N, C, D...] and a weight of the same "
                                  "rank, got {} and {}",
                                  shapeStr(x.shape), shapeStr(w.shape)));
  ConvGeometry gm;
  gm.k = x.rank() - 2;
  gm.N = x.shape[0];
  gm.C = x.shape[1];
  gm.M = w.shape[0];
  auto list = [&](const char *name, int64_t len, int64_t dflt) -> Expected<Shape> {
    auto it = attrs.find(name);
    if (it == attrs.end())
      return Shape(len, dflt);
    if (static_cast<int64_t>(it->second.ints.size()) != len)
      return shapeError(fmt::format("conv '{}' needs {} values", name, len));
    return it->second.ints;
  };
  auto strides = list("strides", gm.k, 1);
  auto pads = list("pads", 2 * gm.k, 0);
  auto dil = list("dilations", gm.k, 1);
  if (!strides)
    return strides.takeError();
  if (!pads)
    return pads.takeError();
  if (!dil)
    return dil.takeError();
  auto g = attrs.find("group");
  gm.group = g == attrs.end() ? 1 : g->second.asInt();
  if (gm.group < 1 || gm.C % gm.group != 0 || gm.M % gm.group != 0 ||
      w.shape[1] * gm.group != gm.C)
    return shapeError(fmt::format("conv group {} does not divide input {} and weight {}",
                                  gm.group, shapeStr(x.shape), shapeStr(w.shape)));
  gm.strides = *strides;
  gm.dilations = *dil;
  for (int64_t d = 0; d < gm.k; ++d) {
    int64_t in = x.shape[2 + d], ks = w.shape[2 + d];
    int64_t pb = (*pads)[d], pe = (*pads)[gm.k + d], s = gm.strides[d], dl = gm.dilations[d];
    if (s < 1 || dl < 1 || pb < 0 || pe < 0 || ks < 1)
      return shapeError("conv strides, dilations and kernel sizes must be >= 1, pads >= 0");
    // Hostile sizes (a pad of 2^63 - 1) must not overflow: the sums are checked.
    int64_t span = 0, padded = 0;
    if (__builtin_mul_overflow(dl, ks - 1, &span) || __builtin_add_overflow(span, 1, &span) ||
        __builtin_add_overflow(in, pb, &padded) || __builtin_add_overflow(padded, pe, &padded))
      return shapeError("conv sizes overflow 64-bit integers");
    if (padded < span)
      return shapeError(fmt::format("conv kernel {} does not fit input {} with its pads",
                                    shapeStr(w.shape), shapeStr(x.shape)));
    gm.in.push_back(in);
    gm.kernel.push_back(ks);
    gm.padBegin.push_back(pb);
    gm.out.push_back((padded - span) / s + 1);
  }
  return gm;
}

namespace {

Expected<TensorType> convShape(const ShapeArgs &a) {
  auto gm = convGeometry(a.operands[0], a.operands[1], a.attrs);
  if (!gm)
    return gm.takeError();
  if (a.operands[2].numel() != gm->M)
    return shapeError(fmt::format("conv bias {} does not match {} output channels",
                                  shapeStr(a.operands[2].shape), gm->M));
  Shape r = {gm->N, gm->M};
  r.insert(r.end(), gm->out.begin(), gm->out.end());
  return TensorType{r};
}

/// Every tap: out[o] += x[i]·W[w]. Grouped by output, in order; `first[o]`
/// indexes the first tap of output o (first.size() = numel(out) + 1).
struct Taps {
  std::vector<int64_t> first, in, weight;
  std::vector<int64_t> channel; ///< output channel of each output element
};

Taps taps(const Graph &g, const Op &op) {
  ConvGeometry gm = *convGeometry(g.type(op.operands[0]), g.type(op.operands[1]), op.attrs);
  Shape inStr = stridesOf(g.type(op.operands[0]).shape);
  Shape wStr = stridesOf(g.type(op.operands[1]).shape);
  int64_t outSpatial = TensorType{gm.out}.numel(), kSpatial = TensorType{gm.kernel}.numel();
  int64_t cPerGroup = gm.C / gm.group, mPerGroup = gm.M / gm.group;
  Taps t;
  std::vector<int64_t> o(gm.k), kp(gm.k);
  for (int64_t n = 0; n < gm.N; ++n)
    for (int64_t m = 0; m < gm.M; ++m)
      for (int64_t os = 0; os < outSpatial; ++os) {
        t.first.push_back(static_cast<int64_t>(t.in.size()));
        t.channel.push_back(m);
        for (int64_t d = gm.k - 1, rem = os; d >= 0; --d) {
          o[d] = rem % gm.out[d];
          rem /= gm.out[d];
        }
        int64_t c0 = (m / mPerGroup) * cPerGroup;
        for (int64_t c = 0; c < cPerGroup; ++c)
          for (int64_t ks = 0; ks < kSpatial; ++ks) {
            for (int64_t d = gm.k - 1, rem = ks; d >= 0; --d) {
              kp[d] = rem % gm.kernel[d];
              rem /= gm.kernel[d];
            }
            int64_t inIdx = n * inStr[0] + (c0 + c) * inStr[1];
            int64_t wIdx = m * wStr[0] + c * wStr[1];
            bool inside = true;
            for (int64_t d = 0; d < gm.k && inside; ++d) {
              int64_t pos = o[d] * gm.strides[d] - gm.padBegin[d] + kp[d] * gm.dilations[d];
              inside = pos >= 0 && pos < gm.in[d];
              inIdx += pos * inStr[2 + d];
              wIdx += kp[d] * wStr[2 + d];
            }
            if (inside) {
              t.in.push_back(inIdx);
              t.weight.push_back(wIdx);
            }
          }
      }
  t.first.push_back(static_cast<int64_t>(t.in.size()));
  return t;
}

template <class T> void evalConv(const EvalArgs<T> &a) {
  Taps t = taps(a.g, a.op);
  for (size_t o = 0; o + 1 < t.first.size(); ++o) {
    T acc = 0;
    for (int64_t j = t.first[o]; j < t.first[o + 1]; ++j)
      acc += a.in[0][t.in[j]] * a.in[1][t.weight[j]];
    a.out[o] = acc + a.in[2][t.channel[o]];
  }
}

Status intervalConv(const IntervalArgs &a) {
  Taps t = taps(a.g, a.op);
  const float *xl = a.lo[0], *xh = a.hi[0], *w = a.lo[1], *b = a.lo[2];
  for (size_t o = 0; o + 1 < t.first.size(); ++o) {
    double c = 0, r = 0, mag = 0;
    for (int64_t j = t.first[o]; j < t.first[o + 1]; ++j) {
      double lo = xl[t.in[j]], hi = xh[t.in[j]], wv = w[t.weight[j]];
      double xc = 0.5 * (lo + hi), xr = 0.5 * (hi - lo);
      c += wv * xc;
      r += std::fabs(wv) * xr;
      mag += std::fabs(wv) * (std::fabs(xc) + xr);
    }
    double bv = b[t.channel[o]];
    linearEnclosure(c - r, c + r, bv, mag + std::fabs(bv), t.first[o + 1] - t.first[o], 0.0,
                    a.outLo[o], a.outHi[o]);
  }
  return Status::ok();
}

/// Λx[:, i] += Λy[:, o]·W[w] over the taps; c += Λy·b. Charges as affine's:
/// each Λx coefficient sums rounded products (γ_F with F its fan-in, from
/// convTerms) bounded by Σ_o |λ_o|·q_o with q_o = Σ_taps |W|·m_x; the bias dot
/// product has numel(out) rounded products.
Status crownConv(CrownBackward &ctx, const Op &op) {
  const Graph &g = ctx.graph();
  const CrownMat &L = ctx.lambda();
  ValueId x = op.operands[0];
  const Weight *w = g.constant(op.operands[1]), *b = g.constant(op.operands[2]);
  Taps t = taps(g, op);
  const int64_t nOut = static_cast<int64_t>(t.first.size()) - 1;
  CrownVec mx = ctx.bounds(x).mag();
  CrownMat Lx = CrownMat::Zero(L.rows(), g.type(x).numel());
  CrownVec q(nOut), bias(nOut);
  for (int64_t o = 0; o < nOut; ++o) {
    double qo = 0;
    for (int64_t j = t.first[o]; j < t.first[o + 1]; ++j) {
      double wv = w->at(t.weight[j]);
      Lx.col(t.in[j]) += L.col(o) * wv;
      qo += std::fabs(wv) * mx[t.in[j]];
    }
    q[o] = qo;
    bias[o] = b->at(t.channel[o]);
  }
  const double chargeA = chargeOn(RoundingCharge::CrownAffine);
  const double gq = ctx.termGamma(x, 1) * chargeA, gb = gammaBound(nOut) * chargeA;
  CrownMat absL = L.cwiseAbs();
  ctx.err() += absL * (gq * q + gb * bias.cwiseAbs());
  ctx.addConstant(L * bias);
  ctx.accumulate(x, Lx);
  return Status::ok();
}

/// Each input element is read by at most (M/g)·prod(kernel) taps.
int64_t convTerms(const Graph &g, const Op &op, size_t k) {
  if (k != 0)
    return 1;
  const Shape &ws = g.type(op.operands[1]).shape;
  int64_t group = op.intAttr("group", 1);
  int64_t kSpatial = TensorType{Shape(ws.begin() + 2, ws.end())}.numel();
  return std::max<int64_t>(1, ws[0] / std::max<int64_t>(1, group) * kSpatial);
}

Status gradConv(const GradArgs &a) {
  Taps t = taps(a.g, a.op);
  const Weight *w = a.g.constant(a.op.operands[1]);
  for (size_t o = 0; o + 1 < t.first.size(); ++o)
    for (int64_t j = t.first[o]; j < t.first[o + 1]; ++j)
      a.add(0, t.in[j], a.adjoint[o] * w->at(t.weight[j]));
  return Status::ok();
}

/// 1-D or 2-D convolutions with random channels, groups, kernel, stride,
/// padding and dilation.
Graph convInstance(std::mt19937_64 &rng) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  // 1-D to 3-D, a leading N of 1 or 2 (ONNX's batch dim inside a sample).
  int64_t k = pick(1, 3), group = pick(1, 2);
  int64_t C = group * pick(1, 2), M = group * pick(1, 2);
  Shape x = {pick(1, 2), C}, w = {M, C / group};
  std::vector<int64_t> strides, pads(2 * k), dil;
  for (int64_t d = 0; d < k; ++d) {
    int64_t ks = pick(1, 3), s = pick(1, 2), dl = pick(1, 2);
    pads[d] = pick(0, 1);
    pads[k + d] = pick(0, 1);
    int64_t span = dl * (ks - 1) + 1;
    x.push_back(std::max<int64_t>(span, pick(1, k == 3 ? 4 : 6)));
    w.push_back(ks);
    strides.push_back(s);
    dil.push_back(dl);
  }
  Attrs attrs;
  attrs["strides"] = Attribute::list(strides);
  attrs["pads"] = Attribute::list(pads);
  attrs["dilations"] = Attribute::list(dil);
  attrs["group"] = Attribute::scalar(group);
  return instanceOf(rng, OpKind::Conv, {TensorType{x}, TensorType{w}, TensorType{{M}}},
                    {false, true, true}, attrs);
}

} // namespace

extern const OpRecord kConvRecord = {
    .shape = convShape,
    .eval = evalConv<float>,
    .eval64 = evalConv<double>,
    .interval = intervalConv,
    .instance = convInstance,
    .crown = crownConv,
    .crownTerms = convTerms,
    .grad = gradConv,
};

} // namespace gma::ir

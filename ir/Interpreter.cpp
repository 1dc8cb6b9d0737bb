//===- ir/Interpreter.cpp - Reference evaluation of the IR ----------------===//
//
// The oracle for generated code: every op's concrete semantics in f32, and its
// interval transfer function exactly as docs/soundness.md states it. Clarity
// beats speed here; each transfer function is written out in full.
//
// Interval relaxations (IBP, Gowal et al. 2018, "On the Effectiveness of
// Interval Bound Propagation", Sec. 3): monotone elementwise ops map endpoints
// to endpoints; affine maps use the centre/radius form c ± |W|·r.
//
//===----------------------------------------------------------------------===//
#include "ir/Interpreter.h"

#include "ir/Rounding.h"
#include "ir/Shapes.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace gma::ir {
namespace {

constexpr double kU53 = 0x1p-53;
constexpr double kU24 = 0x1p-24;

/// The index pattern of a numpy matmul: result[m, n] (per batch position)
/// = sum_k a[aIndex(m, k)] * b[bIndex(k, n)]. Flattened as triples.
struct MatMulPlan {
  int64_t K = 0;
  std::vector<int64_t> aBase, bBase; ///< Per result element: start offsets.
  int64_t aStride = 1, bStride = 1;  ///< Stride along k in a and b.
};

MatMulPlan planMatMul(const Shape &sa0, const Shape &sb0, const Shape &result) {
  Shape sa = sa0, sb = sb0;
  if (sa.size() == 1)
    sa.insert(sa.begin(), 1);
  if (sb.size() == 1)
    sb.push_back(1);
  MatMulPlan p;
  p.K = sa.back();
  int64_t M = sa[sa.size() - 2], N = sb.back();
  Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  Shape batch = *broadcastShapes(batchA, batchB);
  Shape ba = batchA, bb = batchB;
  auto ia = broadcastIndex(ba, batch), ib = broadcastIndex(bb, batch);
  int64_t nb = TensorType{batch}.numel();
  p.aStride = 1;
  p.bStride = N;
  for (int64_t t = 0; t < nb; ++t)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        p.aBase.push_back(ia[t] * M * p.K + m * p.K);
        p.bBase.push_back(ib[t] * p.K * N + n);
      }
  (void)result;
  return p;
}

/// For each element of a transpose's result, the operand element it copies.
std::vector<int64_t> transposeSource(const Graph &g, const Op &op) {
  const Shape &is = g.type(op.operands[0]).shape, &rs = g.type(op.result).shape;
  std::vector<int64_t> perm;
  if (auto it = op.attrs.find("perm"); it != op.attrs.end())
    perm = it->second.ints;
  else
    for (int64_t d = static_cast<int64_t>(is.size()) - 1; d >= 0; --d)
      perm.push_back(d);
  Shape istr = stridesOf(is), rstr = stridesOf(rs);
  std::vector<int64_t> src(TensorType{rs}.numel());
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t rem = static_cast<int64_t>(i), from = 0;
    for (size_t d = 0; d < rs.size(); ++d) {
      from += (rem / rstr[d]) * istr[perm[d]];
      rem %= rstr[d];
    }
    src[i] = from;
  }
  return src;
}

/// Read-only view of one value for one sample.
struct Tensors {
  const Graph &g;
  std::vector<std::vector<float>> lo, hi; // hi unused for concrete evaluation
  int64_t batch;

  const float *loAt(ValueId v, int64_t b) const {
    if (const Weight *w = g.constant(v))
      return w->data();
    return lo[v].data() + b * g.type(v).numel();
  }
  const float *hiAt(ValueId v, int64_t b) const {
    if (const Weight *w = g.constant(v))
      return w->data();
    return hi[v].data() + b * g.type(v).numel();
  }
};

Error unsupported(const Op &op, const char *what) {
  Location loc;
  loc.node = op.loc;
  loc.opType = std::string(mnemonic(op.kind));
  return Error(ErrorCode::IrVerify, fmt::format("the interpreter cannot {} '{}' here", what,
                                                mnemonic(op.kind)),
               loc);
}

float applyBinary(OpKind k, float a, float b) {
  switch (k) {
  case OpKind::Add: return a + b;
  case OpKind::Sub: return a - b;
  case OpKind::Mul: return a * b;
  case OpKind::Div: return a / b;
  default: return 0;
  }
}

/// Interval of a*b for intervals a, b, computed exactly in double for f32 inputs.
void intervalMul(double al, double ah, double bl, double bh, double &lo, double &hi) {
  double p[4] = {al * bl, al * bh, ah * bl, ah * bh};
  lo = hi = p[0];
  for (double v : p) {
    // 0 * inf is NaN: the true product set is unbounded on that side.
    if (std::isnan(v)) {
      lo = -std::numeric_limits<double>::infinity();
      hi = std::numeric_limits<double>::infinity();
      return;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
}

} // namespace

/// Concrete evaluation with every operation in T (float: the network's f32
/// semantics; double: the float64 reference that counterexamples are checked
/// against). Weights are f32 in both.
template <class T>
Expected<std::vector<std::vector<T>>> evaluateIn(const Graph &g,
                                                 const std::vector<std::vector<T>> &inputs,
                                                 int64_t batch) {
  if (inputs.size() != g.inputs.size())
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("the graph has {} inputs, {} given", g.inputs.size(), inputs.size()));
  // Values by id; constants converted to T once.
  std::vector<std::vector<T>> vals(g.values.size());
  for (const Op &op : g.ops)
    if (const Weight *w = op.kind == OpKind::Const ? g.constant(op.result) : nullptr)
      vals[op.result].assign(w->data(), w->data() + w->numel());
  auto at = [&](ValueId v, int64_t b) -> const T * {
    if (g.constant(v))
      return vals[v].data();
    return vals[v].data() + b * g.type(v).numel();
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueId v = g.inputs[i];
    if (static_cast<int64_t>(inputs[i].size()) != g.type(v).numel() * batch)
      return Error(ErrorCode::InvalidArgument, fmt::format("input {} has the wrong size", i));
    vals[v] = inputs[i];
  }
  for (const Op &op : g.ops) {
    if (op.kind == OpKind::Const)
      continue;
    const Shape &rs = g.type(op.result).shape;
    int64_t n = g.type(op.result).numel();
    std::vector<T> &out = vals[op.result];
    out.assign(n * batch, T(0));
    for (int64_t b = 0; b < batch; ++b) {
      T *r = out.data() + b * n;
      auto in = [&](int i) { return at(op.operands[i], b); };
      switch (op.kind) {
      case OpKind::Add:
      case OpKind::Sub:
      case OpKind::Mul:
      case OpKind::Div: {
        auto ia = broadcastIndex(g.type(op.operands[0]).shape, rs);
        auto ib = broadcastIndex(g.type(op.operands[1]).shape, rs);
        for (int64_t i = 0; i < n; ++i)
          r[i] = applyBinary(op.kind, in(0)[ia[i]], in(1)[ib[i]]);
        break;
      }
      case OpKind::Neg:
        for (int64_t i = 0; i < n; ++i)
          r[i] = -in(0)[i];
        break;
      case OpKind::Relu:
        for (int64_t i = 0; i < n; ++i)
          r[i] = std::max(in(0)[i], T(0));
        break;
      case OpKind::Sigmoid:
        for (int64_t i = 0; i < n; ++i)
          r[i] = T(1) / (T(1) + std::exp(-in(0)[i]));
        break;
      case OpKind::Reshape:
      case OpKind::Identity:
        std::copy(in(0), in(0) + n, r);
        break;
      case OpKind::MatMul: {
        MatMulPlan p = planMatMul(g.type(op.operands[0]).shape, g.type(op.operands[1]).shape, rs);
        for (int64_t i = 0; i < n; ++i) {
          T acc = 0;
          for (int64_t k = 0; k < p.K; ++k)
            acc += in(0)[p.aBase[i] + k * p.aStride] * in(1)[p.bBase[i] + k * p.bStride];
          r[i] = acc;
        }
        break;
      }
      case OpKind::Affine: {
        const TensorType &wt = g.type(op.operands[1]);
        bool tr = op.intAttr("transposed") != 0;
        int64_t N = rs.back(), K = g.type(op.operands[0]).shape.back(), rows = n / N;
        const T *W = in(1), *bias = in(2);
        for (int64_t row = 0; row < rows; ++row)
          for (int64_t j = 0; j < N; ++j) {
            T acc = 0;
            for (int64_t k = 0; k < K; ++k)
              acc += in(0)[row * K + k] * (tr ? W[j * K + k] : W[k * N + j]);
            r[row * N + j] = acc + bias[j];
          }
        (void)wt;
        break;
      }
      case OpKind::Transpose: {
        auto src = transposeSource(g, op);
        for (int64_t i = 0; i < n; ++i)
          r[i] = in(0)[src[i]];
        break;
      }
      case OpKind::Const:
        break;
      }
    }
  }
  std::vector<std::vector<T>> outs;
  for (ValueId v : g.outputs) {
    if (const Weight *w = g.constant(v)) {
      std::vector<T> o;
      for (int64_t b = 0; b < batch; ++b)
        o.insert(o.end(), w->data(), w->data() + w->numel());
      outs.push_back(std::move(o));
    } else if (g.values[v].def < 0 && vals[v].empty()) {
      outs.push_back({});
    } else {
      outs.push_back(vals[v]);
    }
  }
  return outs;
}

Expected<std::vector<std::vector<float>>>
evaluate(const Graph &g, const std::vector<std::vector<float>> &inputs, int64_t batch) {
  return evaluateIn<float>(g, inputs, batch);
}

Expected<std::vector<std::vector<double>>>
evaluate64(const Graph &g, const std::vector<std::vector<double>> &inputs, int64_t batch) {
  return evaluateIn<double>(g, inputs, batch);
}

namespace {

/// The interval transfer function of one op (docs/soundness.md).
Status ibpOpImpl(const Graph &g, const Op &op, Tensors &t, int64_t batch) {
  const double inf = std::numeric_limits<double>::infinity();
  if (op.kind == OpKind::Const)
    return Status::ok();
  const Shape &rs = g.type(op.result).shape;
  int64_t n = g.type(op.result).numel();
  t.lo[op.result].assign(n * batch, 0.0f);
  t.hi[op.result].assign(n * batch, 0.0f);
  bool c0 = op.operands.size() > 0 && g.isConstant(op.operands[0]);
  bool c1 = op.operands.size() > 1 && g.isConstant(op.operands[1]);
  for (int64_t b = 0; b < batch; ++b) {
    float *rl = t.lo[op.result].data() + b * n;
    float *rh = t.hi[op.result].data() + b * n;
    auto L = [&](int i) { return t.loAt(op.operands[i], b); };
    auto H = [&](int i) { return t.hiAt(op.operands[i], b); };
    switch (op.kind) {
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: {
      auto ia = broadcastIndex(g.type(op.operands[0]).shape, rs);
      auto ib = broadcastIndex(g.type(op.operands[1]).shape, rs);
      if (op.kind == OpKind::Div && !c1)
        return unsupported(op, "bound a division by an activation in");
      for (int64_t i = 0; i < n; ++i) {
        double al = L(0)[ia[i]], ah = H(0)[ia[i]], bl = L(1)[ib[i]], bh = H(1)[ib[i]];
        double lo, hi;
        switch (op.kind) {
        case OpKind::Add: lo = al + bl; hi = ah + bh; break;
        case OpKind::Sub: lo = al - bh; hi = ah - bl; break;
        case OpKind::Mul: intervalMul(al, ah, bl, bh, lo, hi); break;
        default: // Div by a constant c (bl == bh).
          if (bl == 0 || std::isnan(bl)) {
            lo = -inf;
            hi = inf;
          } else {
            lo = bl > 0 ? al / bl : ah / bl;
            hi = bl > 0 ? ah / bl : al / bl;
          }
        }
        (void)c0;
        rl[i] = roundDown(lo);
        rh[i] = roundUp(hi);
      }
      break;
    }
    case OpKind::Neg:
      for (int64_t i = 0; i < n; ++i) {
        rl[i] = -H(0)[i];
        rh[i] = -L(0)[i];
      }
      break;
    case OpKind::Relu:
      for (int64_t i = 0; i < n; ++i) {
        rl[i] = std::max(L(0)[i], 0.0f);
        rh[i] = std::max(H(0)[i], 0.0f);
      }
      break;
    case OpKind::Sigmoid:
      // Monotone: endpoints map to endpoints. exp is within 1 ulp and three
      // more double ops follow, so a slack of 8 double ulps covers it while
      // σ is a normal double. Below 2^-149 (x < -103) the double σ may be 0
      // (exp(-x) overflows from x < -709.78) or subnormal, while σ(x) > 0:
      // the upper bound is floored at the smallest positive f32, above every
      // σ(x) < 2^-149 (docs/soundness.md, "sigmoid floor"). 0 <= σ <= 1 caps
      // both ends (and maps NaN endpoints to [0, 1]).
      for (int64_t i = 0; i < n; ++i) {
        float lo = roundDown(1.0 / (1.0 + std::exp(-static_cast<double>(L(0)[i]))), 8);
        float hi = roundUp(1.0 / (1.0 + std::exp(-static_cast<double>(H(0)[i]))), 8);
        if (roundingMutation() != RoundingCharge::SigmoidFloor)
          hi = std::max(hi, kMinPositiveF32);
        rl[i] = std::max(lo, 0.0f);
        rh[i] = std::min(hi, 1.0f);
      }
      break;
    case OpKind::Reshape:
    case OpKind::Identity:
      std::copy(L(0), L(0) + n, rl);
      std::copy(H(0), H(0) + n, rh);
      break;
    case OpKind::Transpose: {
      auto src = transposeSource(g, op);
      for (int64_t i = 0; i < n; ++i) {
        rl[i] = L(0)[src[i]];
        rh[i] = H(0)[src[i]];
      }
      break;
    }
    case OpKind::MatMul:
    case OpKind::Affine: {
      // Each output is sum_k x[k] * w[k] (+ bias) with one side an interval
      // and the other a constant (or, for matmul, both intervals).
      // Sum in double (docs/soundness.md, "affine"): xc = (l + h)/2 and
      // xr = (h - l)/2 round once each (f32 + f32 is not always exact in
      // double), w·xc once more (an f32 times a double); K-1 adds and the
      // two of c + b ± a follow, so every term carries at most K + 3
      // roundings: error <= γ_{K+3}·mag < (K + 4)·2^-53·mag (L1, L2).
      int64_t K;
      std::vector<int64_t> xBase, wBase;
      int64_t xStride, wStride;
      const float *bias = nullptr;
      int xi = 0, wi = 1; // operand index of the interval side and the weight side
      if (op.kind == OpKind::Affine) {
        bool tr = op.intAttr("transposed") != 0;
        K = g.type(op.operands[0]).shape.back();
        int64_t N = rs.back(), rows = n / N;
        for (int64_t row = 0; row < rows; ++row)
          for (int64_t j = 0; j < N; ++j) {
            xBase.push_back(row * K);
            wBase.push_back(tr ? j * K : j);
          }
        xStride = 1;
        wStride = tr ? 1 : N;
        bias = L(2);
      } else {
        MatMulPlan p = planMatMul(g.type(op.operands[0]).shape, g.type(op.operands[1]).shape, rs);
        K = p.K;
        if (c0 && !c1) {
          xi = 1;
          wi = 0;
          xBase = p.bBase;
          xStride = p.bStride;
          wBase = p.aBase;
          wStride = p.aStride;
        } else {
          xBase = p.aBase;
          xStride = p.aStride;
          wBase = p.bBase;
          wStride = p.bStride;
        }
      }
      bool bothIntervals = op.kind == OpKind::MatMul && !c0 && !c1;
      double ulpError = static_cast<double>(op.intAttr("ulp_error"));
      for (int64_t i = 0; i < n; ++i) {
        double lo = 0, hi = 0, mag = 0;
        if (bothIntervals) {
          for (int64_t k = 0; k < K; ++k) {
            double pl, ph;
            intervalMul(L(xi)[xBase[i] + k * xStride], H(xi)[xBase[i] + k * xStride],
                        L(wi)[wBase[i] + k * wStride], H(wi)[wBase[i] + k * wStride], pl, ph);
            lo += pl;
            hi += ph;
            mag += std::max(std::fabs(pl), std::fabs(ph));
          }
        } else {
          double c = 0, a = 0;
          for (int64_t k = 0; k < K; ++k) {
            double xl = L(xi)[xBase[i] + k * xStride], xh = H(xi)[xBase[i] + k * xStride];
            double w = L(wi)[wBase[i] + k * wStride];
            double xc = 0.5 * (xl + xh), xr = 0.5 * (xh - xl);
            c += w * xc;
            a += std::fabs(w) * xr;
            mag += std::fabs(w) * (std::fabs(xc) + xr);
          }
          lo = c - a;
          hi = c + a;
        }
        double bv = bias ? bias[i % rs.back()] : 0.0;
        mag += std::fabs(bv);
        double margin = (static_cast<double>(K + 4) * kU53 + ulpError * kU24) * mag *
                        chargeOn(RoundingCharge::AffineIbp);
        // NaN (from inf - inf) becomes the infinite endpoint in roundDown/Up.
        rl[i] = roundDown(lo + bv - margin);
        rh[i] = roundUp(hi + bv + margin);
      }
      break;
    }
    case OpKind::Const:
      break;
    }
  }
  return Status::ok();
}

} // namespace

Status ibpOp(const Graph &g, const Op &op, IntervalState &state, int64_t batch) {
  Tensors t{g, {}, {}, batch};
  t.lo.swap(state.lo);
  t.hi.swap(state.hi);
  Status st = ibpOpImpl(g, op, t, batch);
  t.lo.swap(state.lo);
  t.hi.swap(state.hi);
  return st;
}

Expected<std::vector<IntervalBuffer>> ibp(const Graph &g, const std::vector<IntervalBuffer> &inputs,
                                          int64_t batch) {
  if (inputs.size() != g.inputs.size())
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("the graph has {} inputs, {} given", g.inputs.size(), inputs.size()));
  Tensors t{g, std::vector<std::vector<float>>(g.values.size()),
            std::vector<std::vector<float>>(g.values.size()), batch};
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueId v = g.inputs[i];
    int64_t n = g.type(v).numel() * batch;
    if (static_cast<int64_t>(inputs[i].lo.size()) != n || static_cast<int64_t>(inputs[i].hi.size()) != n)
      return Error(ErrorCode::InvalidArgument, fmt::format("input {} has the wrong size", i));
    t.lo[v] = inputs[i].lo;
    t.hi[v] = inputs[i].hi;
  }
  IntervalState state;
  state.lo.swap(t.lo);
  state.hi.swap(t.hi);
  for (const Op &op : g.ops)
    if (auto s = ibpOp(g, op, state, batch); !s)
      return s.takeError();
  t.lo.swap(state.lo);
  t.hi.swap(state.hi);
  std::vector<IntervalBuffer> outs;
  for (ValueId v : g.outputs) {
    IntervalBuffer o;
    if (const Weight *w = g.constant(v)) {
      for (int64_t b = 0; b < batch; ++b) {
        o.lo.insert(o.lo.end(), w->data(), w->data() + w->numel());
        o.hi.insert(o.hi.end(), w->data(), w->data() + w->numel());
      }
    } else {
      o.lo = t.lo[v];
      o.hi = t.hi[v];
    }
    outs.push_back(std::move(o));
  }
  return outs;
}

} // namespace gma::ir

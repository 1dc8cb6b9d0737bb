//===- ir/Crown.cpp - Reference CROWN bounds ------------------------------===//
//
// 1. Interval bounds of every value by IBP (ir/Interpreter.h).
// 2. For each ReLU in schedule order, CROWN bounds of its input over the
//    neurons IBP leaves unstable (for each sigmoid, over all its neurons),
//    intersected with the current bounds; later backward passes use these
//    tightened bounds.
// 3. The specification C (stacked with -C for the upper bounds) is propagated
//    backward from the output to the input and concretised over the box.
//
// Backward rules (Λ: the linear coefficients on a value, c: the constant term):
//   affine y = x·W + b:       Λx += Λy·Wᵀ,  c += Λy·b
//   relu, l >= 0 / u <= 0:    Λx += Λy / nothing
//   relu, l < 0 < u:          upper line y <= s·(x - l), s = u/(u - l);
//                             lower line y >= a·x, a = 1 if u > -l else 0
//                             (auto_LiRPA's adaptive choice). For a lower bound,
//                             λ >= 0 takes the lower line, λ < 0 the upper one.
//   sigmoid:                  the lines of ir/ScalarRelaxation.h (tangents
//                             and chords), chosen by the sign of λ as for ReLU.
//   add/sub/mul/div with a constant, neg, reshape, identity: linear, exact.
//   input:                    Λ·x >= Λ·xc - |Λ|·xr.
//
// Rounding: every step adds a bound on its own floating-point error to a
// per-row margin: a sum of n terms errs by at most γ_n·Σ|terms| (each Λ
// coefficient is one sum over all consumers of its value: fanInCounts), each
// add into c by u·|c_new|, and |terms| is bounded with the magnitudes
// m = max(|l|, |u|) of the values the coefficients multiply. Slopes and intercepts of the upper line are
// rounded up, which keeps the line above the ReLU on [l, u].
//
//===----------------------------------------------------------------------===//
#include "ir/Crown.h"

#include "ir/CrownRule.h"
#include "ir/OpRecord.h"

#include "ir/Interpreter.h"
#include "ir/Rounding.h"
#include "ir/Shapes.h"
#include "ir/ScalarRelaxation.h"

#include <Eigen/Dense>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>
#include <optional>

namespace gma::ir {
namespace {

using Mat = CrownMat;
using Vec = CrownVec;
using Bounds = CrownBounds;

constexpr double kU = kUnitRoundoff;

/// Number of terms summed into each coefficient of Λ on `v` over all its
/// consumers (docs/soundness.md, "fan-in"): an affine consumer adds N
/// products, an elementwise one 1 term, a broadcasting add or product one
/// term per result element that reads the same operand element. The whole
/// coefficient is then one sum of F terms in some order (L2: error γ_F, or
/// γ_{F-1} for terms that are exact). codegen/CrownEmitter.cpp counts the
/// same terms on the kernel plan.
std::vector<int64_t> fanInCounts(const Graph &g) {
  std::vector<int64_t> f(g.values.size(), 0);
  for (const Op &op : g.ops) {
    if (op.kind == OpKind::Const)
      continue;
    CrownTermsFn terms = opRecord(op.kind).crownTerms;
    for (size_t k = 0; k < op.operands.size(); ++k)
      if (!g.isConstant(op.operands[k]))
        f[op.operands[k]] += terms ? terms(g, op, k) : 1;
  }
  return f;
}

class CrownEngine final : public CrownBackward {
public:
  explicit CrownEngine(const Graph &g) : g_(g), fanIn_(fanInCounts(g)) {}

  /// Steps 1 and 2: interval bounds of every value in schedule order; the
  /// input of each ReLU is first tightened by CROWN over the neurons its
  /// interval leaves unstable (as auto_LiRPA does: the CROWN bound replaces the
  /// interval on those neurons, or on all of them when more than 90% are
  /// unstable; with `intersect` it is intersected with the interval instead).
  ///
  /// A relaxed value with caller's bounds (`boundsIn`) is intersected with
  /// them before and after its tightening; neurons left empty are counted
  /// (emptyNeurons) and set to [lo, lo].
  Status forward(const std::vector<float> &lo, const std::vector<float> &hi, bool intersect,
                 const CrownOptions &opts) {
    state_.lo.assign(g_.values.size(), {});
    state_.hi.assign(g_.values.size(), {});
    state_.lo[g_.inputs[0]] = lo;
    state_.hi[g_.inputs[0]] = hi;
    std::vector<bool> done(g_.values.size(), false);
    for (const Op &op : g_.ops) {
      if (CrownTighten t = opRecord(op.kind).tighten; t != CrownTighten::None) {
        ValueId x = op.operands[0];
        auto in = opts.boundsIn.find(x);
        const bool constrained = in != opts.boundsIn.end() && x != g_.inputs[0] && !done[x];
        if (constrained)
          if (auto s = clampTo(x, in->second); !s)
            return s;
        if (auto s = tighten(x, intersect, t == CrownTighten::All); !s)
          return s;
        if (constrained)
          if (auto s = clampTo(x, in->second); !s)
            return s;
        done[x] = true;
      }
      if (auto s = ibpOp(g_, op, state_, 1); !s)
        return s;
    }
    return Status::ok();
  }

  const IntervalState &state() const { return state_; }
  int64_t emptyNeurons() const { return empty_; }
  /// The lower slopes the final non-parallel pass reads (CrownOptions), or null.
  void setSlopes(const std::map<ValueId, std::vector<float>> *s) { slopes_ = s; }

  /// x's interval intersected with the caller's [lo, hi]; an empty one
  /// counted and set to [lo, lo] (codegen's _crown.clamp does the same).
  Status clampTo(ValueId x, const std::pair<std::vector<float>, std::vector<float>> &b) {
    std::vector<float> &lo = state_.lo[x], &hi = state_.hi[x];
    if (b.first.size() != lo.size() || b.second.size() != lo.size())
      return Error(ErrorCode::InvalidArgument,
                   fmt::format("bounds on value {} have {}/{} entries; {} expected", x,
                               b.first.size(), b.second.size(), lo.size()));
    for (size_t i = 0; i < lo.size(); ++i) {
      float l = lo[i] < b.first[i] ? b.first[i] : lo[i];
      float h = b.second[i] < hi[i] ? b.second[i] : hi[i];
      if (h < l) {
        ++empty_;
        h = l;
      }
      lo[i] = l;
      hi[i] = h;
    }
    return Status::ok();
  }

  /// Lower ReLU slopes u/(u - l) instead of the adaptive 0/1 (for the final
  /// pass; intermediate bounds always use the adaptive slopes).
  void setParallel(bool on) { parallel_ = on; }
  /// The passes that follow bound the rows of C (for the trace).
  void setFinal(bool on) { final_ = on; }
  /// Called after every backward step (CrownOptions::trace); may be null.
  void setTrace(const std::function<void(const CrownTraceStep &)> *t) { trace_ = t; }

  /// CROWN bounds of x's neurons: those its interval leaves unstable (a ReLU
  /// input), or `all` of them (a sigmoid input: every neuron's relaxation
  /// depends on its bounds, and auto_LiRPA bounds them all).
  Status tighten(ValueId x, bool intersect, bool all = false) {
    std::vector<float> &lo = state_.lo[x], &hi = state_.hi[x];
    std::vector<int64_t> unstable;
    for (size_t i = 0; i < lo.size(); ++i)
      if (all || (lo[i] < 0 && hi[i] > 0))
        unstable.push_back(static_cast<int64_t>(i));
    if (unstable.empty())
      return Status::ok();
    // auto_LiRPA bounds every neuron by CROWN, and drops the interval bounds,
    // once more than 90% of them are unstable (its dense specification).
    if (!intersect && 10 * unstable.size() > 9 * lo.size()) {
      unstable.resize(lo.size());
      std::iota(unstable.begin(), unstable.end(), int64_t{0});
    }
    int64_t n = static_cast<int64_t>(unstable.size());
    Mat spec = Mat::Zero(2 * n, static_cast<int64_t>(lo.size()));
    for (int64_t j = 0; j < n; ++j) {
      spec(j, unstable[j]) = 1;
      spec(n + j, unstable[j]) = -1;
    }
    auto lower = lowerBounds(x, spec);
    if (!lower)
      return lower.takeError();
    for (int64_t j = 0; j < n; ++j) {
      int64_t i = unstable[j];
      float l = roundDown((*lower)[j]), u = roundUp(-(*lower)[n + j]);
      lo[i] = intersect ? std::max(lo[i], l) : l;
      hi[i] = intersect ? std::min(hi[i], u) : u;
    }
    return Status::ok();
  }

  /// Sound lower bounds (in double, margins included) of spec·value over the box.
  /// With `inputCoefs`, also the linear bound: spec·value >= a·x + offset on
  /// the box, a = f32(Λ) (returned as double) and offset a sound lower bound
  /// of c - err - Σ|Λ - a|·m_x (the coefficients' rounding) - 4u·|c|.
  Expected<Vec> lowerBounds(ValueId target, const Mat &spec, Mat *inputCoefs = nullptr,
                            Vec *offsets = nullptr) {
    int64_t rows = spec.rows();
    std::vector<std::optional<Mat>> lam(g_.values.size());
    lam[target] = spec;
    // err starts at the underflow allowance (ir/Rounding.h, kUnderflowCharge).
    Vec c = Vec::Zero(rows), err = Vec::Constant(rows, kUnderflowCharge);
    int32_t start = g_.values[target].def;
    for (int32_t i = start; i >= 0; --i) {
      const Op &op = g_.ops[i];
      if (op.kind == OpKind::Const || !lam[op.result])
        continue;
      Mat L = std::move(*lam[op.result]);
      lam[op.result].reset();
      if (auto s = backward(op, L, lam, c, err); !s)
        return s.takeError();
      if (trace_ && *trace_)
        emitTrace(i, target, spec, lam, c, err);
    }
    ValueId in = g_.inputs[0];
    if (!lam[in])
      lam[in] = Mat::Zero(rows, g_.type(in).numel()); // the target does not depend on x
    const Mat &L = *lam[in];
    Bounds b = boundsOf(in);
    Vec xc = (b.lo + b.hi) * 0.5, xr = (b.hi - b.lo) * 0.5;
    if (inputCoefs) {
      *inputCoefs = L.cast<float>().cast<double>();
      Vec m = b.lo.cwiseAbs().cwiseMax(b.hi.cwiseAbs());
      Vec slack = err + (L - *inputCoefs).cwiseAbs() * m + 4 * kU * c.cwiseAbs();
      if (offsets)
        *offsets = c - slack * (1 + 1e-9);
    }
    Mat absL = L.cwiseAbs();
    Vec val = L * xc - absL * xr + c;
    Vec mag = absL * (xc.cwiseAbs() + xr) + c.cwiseAbs();
    err += gammaBound(2 * L.cols() + 4) * chargeOn(RoundingCharge::CrownConcretise) * mag;
    Vec result = val - err * (1 + 1e-9);
    for (int64_t r = 0; r < rows; ++r)
      if (std::isnan(result[r]))
        result[r] = -std::numeric_limits<double>::infinity();
    return result;
  }

private:
  void emitTrace(int32_t op, ValueId target, const Mat &spec,
                 const std::vector<std::optional<Mat>> &lam, const Vec &c, const Vec &err) {
    CrownTraceStep st;
    st.op = op;
    st.target = target;
    st.finalPass = final_;
    st.parallel = parallel_;
    st.rows = spec.rows();
    st.spec = spec.data();
    for (size_t v = 0; v < lam.size(); ++v)
      if (lam[v])
        st.lambda.emplace_back(static_cast<ValueId>(v), lam[v]->data());
    st.c = c.data();
    st.err = err.data();
    (*trace_)(st);
  }

  /// γ of a Λ term on `v` with `extra` roundings of its own (0: exact term,
  /// 1: one rounded product) summed with the other F_v - 1 terms.
  double termGamma(ValueId v, int64_t extra) const override {
    int64_t others = std::max<int64_t>(fanIn_[v], 1) - 1;
    if (roundingMutation() == RoundingCharge::CrownFanIn)
      others = 0;
    return gammaBound(others + extra);
  }

  /// c += s, the rule's constant sum: the add rounds by at most u·|c_new|
  /// (L1 in the form |fl(a + b) - (a + b)| <= u·|fl(a + b)|).
  void addConstant(Vec &c, Vec &err, const Vec &sum) {
    c += sum;
    err += kU * chargeOn(RoundingCharge::CrownConstant) * c.cwiseAbs();
  }

  void accumulate(std::vector<std::optional<Mat>> &lam, ValueId v, const Mat &m) {
    if (g_.isConstant(v))
      return;
    if (lam[v])
      *lam[v] += m;
    else
      lam[v] = m;
  }

  /// One backward step: the op's record moves Λ (on its result) onto its
  /// operands through this engine's CrownBackward interface.
  Status backward(const Op &op, const Mat &L, std::vector<std::optional<Mat>> &lam, Vec &c,
                  Vec &err) {
    CrownRuleFn rule = opRecord(op.kind).crown;
    if (!rule)
      return crownUnsupported(op);
    curL_ = &L;
    curLam_ = &lam;
    curC_ = &c;
    curErr_ = &err;
    return rule(*this, op);
  }

  // CrownBackward: what a rule sees of the current step.
  const Graph &graph() const override { return g_; }
  const CrownMat &lambda() const override { return *curL_; }
  CrownBounds bounds(ValueId v) const override { return boundsOf(v); }
  void addConstant(const CrownVec &sum) override { addConstant(*curC_, *curErr_, sum); }
  void accumulate(ValueId v, const CrownMat &m) override { accumulate(*curLam_, v, m); }
  CrownVec &err() override { return *curErr_; }
  bool parallelSlopes() const override { return parallel_; }
  const float *lowerSlopes(ValueId v) const override {
    if (!slopes_ || parallel_ || !final_)
      return nullptr;
    auto it = slopes_->find(v);
    return it == slopes_->end() ? nullptr : it->second.data();
  }

  Bounds boundsOf(ValueId v) const {
    Bounds b;
    b.lo = Eigen::Map<const Eigen::VectorXf>(state_.lo[v].data(), state_.lo[v].size()).cast<double>();
    b.hi = Eigen::Map<const Eigen::VectorXf>(state_.hi[v].data(), state_.hi[v].size()).cast<double>();
    return b;
  }

  const Graph &g_;
  std::vector<int64_t> fanIn_;
  IntervalState state_;
  bool parallel_ = false, final_ = false;
  int64_t empty_ = 0;
  const std::map<ValueId, std::vector<float>> *slopes_ = nullptr;
  // The step in progress (backward).
  const Mat *curL_ = nullptr;
  std::vector<std::optional<Mat>> *curLam_ = nullptr;
  Vec *curC_ = nullptr, *curErr_ = nullptr;
  const std::function<void(const CrownTraceStep &)> *trace_ = nullptr;
};

} // namespace

CrownMat crownReduceBroadcast(const CrownMat &L, const Shape &operand, const Shape &result) {
  if (operand == result)
    return L;
  auto idx = broadcastIndex(operand, result);
  CrownMat r = CrownMat::Zero(L.rows(), TensorType{operand}.numel());
  for (size_t i = 0; i < idx.size(); ++i)
    r.col(idx[i]) += L.col(i);
  return r;
}

CrownVec crownBroadcastConst(const Graph &g, ValueId v, const Shape &result) {
  const Weight *w = g.constant(v);
  auto idx = broadcastIndex(g.type(v).shape, result);
  CrownVec r(idx.size());
  for (size_t i = 0; i < idx.size(); ++i)
    r[i] = w->at(idx[i]);
  return r;
}

CrownVec crownBroadcastMag(const CrownBackward &ctx, ValueId v, const Shape &result) {
  CrownVec m = ctx.bounds(v).mag();
  auto idx = broadcastIndex(ctx.graph().type(v).shape, result);
  CrownVec r(idx.size());
  for (size_t i = 0; i < idx.size(); ++i)
    r[i] = m[idx[i]];
  return r;
}

Error crownUnsupported(const Op &op) {
  Location loc;
  loc.node = op.loc;
  loc.opType = std::string(mnemonic(op.kind));
  return Error(ErrorCode::IrVerify,
               fmt::format("CROWN does not support '{}' here", mnemonic(op.kind)), loc);
}

Expected<CrownResult> crown(const Graph &g, const std::vector<float> &lo,
                            const std::vector<float> &hi, const std::vector<double> &C,
                            int64_t rows, const CrownOptions &opts) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    return Error(ErrorCode::InvalidArgument, "CROWN needs a graph with one input and one output");
  ValueId out = g.outputs[0];
  int64_t n = g.type(out).numel();
  Mat spec;
  if (C.empty()) {
    spec = Mat::Identity(n, n);
  } else {
    if (static_cast<int64_t>(C.size()) != rows * n)
      return Error(ErrorCode::InvalidArgument,
                   fmt::format("C has {} entries; {} rows of {} expected", C.size(), rows, n));
    spec = Eigen::Map<const Mat>(C.data(), rows, n);
  }
  CrownEngine engine(g);
  engine.setTrace(&opts.trace);
  if (auto s = engine.forward(lo, hi, opts.intersectIntermediate, opts); !s)
    return s.takeError();
  CrownResult res;
  if (opts.wantBounds)
    for (const Op &op : g.ops)
      if (opRecord(op.kind).tighten != CrownTighten::None && op.operands[0] != g.inputs[0])
        res.bounds[op.operands[0]] = {engine.state().lo[op.operands[0]],
                                      engine.state().hi[op.operands[0]]};
  if (engine.emptyNeurons() > 0) {
    // No point of the box satisfies boundsIn: the extrema of the empty set.
    int64_t R = C.empty() ? n : rows;
    res.empty = true;
    res.lower.assign(R, std::numeric_limits<float>::infinity());
    res.upper.assign(R, -std::numeric_limits<float>::infinity());
    if (opts.wantInputCoefs) {
      res.inputCoefs.assign(R * g.type(g.inputs[0]).numel(), 0.0f);
      res.inputOffsets.assign(R, std::numeric_limits<float>::infinity());
    }
    return res;
  }
  for (const auto &[v, a] : opts.lowerSlopes)
    if (v < 0 || v >= static_cast<ValueId>(g.values.size()) ||
        static_cast<int64_t>(a.size()) != g.type(v).numel())
      return Error(ErrorCode::InvalidArgument,
                   fmt::format("lower slopes of value {}: {} entries do not fit it", v, a.size()));
  engine.setSlopes(&opts.lowerSlopes);
  engine.setFinal(true);
  int64_t R = spec.rows();
  Mat both(2 * R, n);
  both.topRows(R) = spec;
  both.bottomRows(R) = -spec;
  Mat coefs;
  Vec offsets;
  auto lower = engine.lowerBounds(out, both, opts.wantInputCoefs ? &coefs : nullptr, &offsets);
  if (!lower)
    return lower.takeError();
  if (opts.parallelFinal) {
    engine.setParallel(true);
    auto alt = engine.lowerBounds(out, both);
    if (!alt)
      return alt.takeError();
    for (int64_t r = 0; r < 2 * R; ++r)
      (*lower)[r] = std::max((*lower)[r], (*alt)[r]);
  }
  // Never looser than IBP: intersect with the interval bounds of C·y. When
  // intermediate bounds were replaced rather than intersected (auto_LiRPA's
  // policy), with plain IBP only: the intervals propagated from the replaced
  // bounds are not part of auto_LiRPA's CROWN and can be tighter than it.
  std::vector<float> ylo = engine.state().lo[out], yhi = engine.state().hi[out];
  if (!opts.intersectIntermediate) {
    auto plain = ibp(g, {{lo, hi}}, 1);
    if (!plain)
      return plain.takeError();
    ylo = (*plain)[0].lo;
    yhi = (*plain)[0].hi;
  }
  for (int64_t r = 0; r < R; ++r) {
    double il = 0, iu = 0;
    for (int64_t j = 0; j < n; ++j) {
      double c = spec(r, j);
      il += c >= 0 ? c * ylo[j] : c * yhi[j];
      iu += c >= 0 ? c * yhi[j] : c * ylo[j];
    }
    double m = gammaBound(n + 4) * (spec.row(r).cwiseAbs().dot(
                   Eigen::Map<const Eigen::VectorXf>(ylo.data(), n).cast<double>().cwiseAbs().cwiseMax(
                       Eigen::Map<const Eigen::VectorXf>(yhi.data(), n).cast<double>().cwiseAbs())));
    res.lower.push_back(std::max(roundDown((*lower)[r]), roundDown(il - m)));
    res.upper.push_back(std::min(roundUp(-(*lower)[R + r]), roundUp(iu + m)));
  }
  if (opts.wantInputCoefs)
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t k = 0; k < coefs.cols(); ++k)
        res.inputCoefs.push_back(static_cast<float>(coefs(r, k)));
      res.inputOffsets.push_back(roundDown(offsets[r]));
    }
  return res;
}

Expected<std::vector<float>> inputGradient(const Graph &g, const std::vector<float> &x,
                                           const std::vector<double> &c) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    return Error(ErrorCode::InvalidArgument, "the gradient needs one input and one output");
  // Every value at x as the network computes it (f32): ReLU's derivative is
  // taken at the sign of its f32 input, sigmoid's at its f32 input, the
  // values the eval kernel (and every counterexample check) sees.
  auto values = evaluateAll(g, {x}, 1);
  if (!values)
    return values.takeError();
  ValueId out = g.outputs[0];
  if (static_cast<int64_t>(c.size()) != g.type(out).numel())
    return Error(ErrorCode::InvalidArgument, "c must have one entry per output");
  std::vector<std::vector<double>> adj(g.values.size());
  adj[out] = c;
  auto add = [&](ValueId v, int64_t i, double d) {
    if (g.isConstant(v))
      return;
    if (adj[v].empty())
      adj[v].assign(g.type(v).numel(), 0.0);
    adj[v][i] += d;
  };
  for (int32_t i = g.values[out].def; i >= 0; --i) {
    const Op &op = g.ops[i];
    if (op.kind == OpKind::Const || adj[op.result].empty())
      continue;
    GradFn rule = opRecord(op.kind).grad;
    if (!rule)
      return Error(ErrorCode::IrVerify,
                   fmt::format("the gradient does not support '{}'", mnemonic(op.kind)));
    // Each operand's f32 value (a constant's data).
    auto value = [&](size_t k, int64_t j) -> double {
      ValueId v = op.operands[k];
      if (const Weight *w = g.constant(v))
        return w->at(j);
      return (*values)[v][j];
    };
    auto addTo = [&](size_t k, int64_t j, double d) { add(op.operands[k], j, d); };
    std::vector<double> a = adj[op.result];
    if (Status s = rule(GradArgs{g, op, a, value, addTo}); !s)
      return s.takeError();
  }
  std::vector<float> grad(g.type(g.inputs[0]).numel(), 0.0f);
  const auto &ga = adj[g.inputs[0]];
  for (size_t j = 0; j < ga.size(); ++j)
    grad[j] = static_cast<float>(ga[j]);
  return grad;
}

} // namespace gma::ir

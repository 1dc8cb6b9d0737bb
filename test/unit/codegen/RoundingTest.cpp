//===- test/unit/codegen/RoundingTest.cpp - Rounding margins that matter --===//
//
// Hand-made cases in which double evaluation of a bound loses everything to
// cancellation or overflow, so that each rounding charge of docs/soundness.md
// is the only thing between the computed bound and the exact value:
//
//   affine-ibp     x = [1, 2^-30, -1] (a point), W = [1, 2^-30, 1]ᵀ: the exact
//                  y is 2^-60, the double sum 0 (AffineIbp);
//   sigmoid-floor  σ over [-1000, -800]: the double σ is 0 at both ends,
//                  σ(-800) ≈ 1e-348 > 0 (SigmoidFloor);
//   conv-ibp       the same sum through a 1-D and a 2-D conv (AffineIbp: the
//                  conv kernel's own margin);
//   crown-concr.   y = -(-x) with C = [1, 1, 1], x = [1, 2^-60, -1]: Λ·xc
//                  cancels (CrownConcretise);
//   crown-bias     y = x·0 + b, b = [1, 2^-60, -1], C = [1, 1, 1]: Λ·b
//                  cancels (CrownAffine);
//   crown-weights  y = x·W, W = [1, 2^-60, -1], C = [1, 1, 1], x = 1: Λ·Wᵀ
//                  cancels (CrownAffine);
//   crown-conv-*   the two above through a conv with three output channels
//                  (CrownAffine: the conv kernel's own rule);
//   crown-chain    20 steps y += C_i with C = 1, 2^-54 × 18, -1: each add
//                  into c rounds the small term away (a tie to even at 1),
//                  18·2^-54 lost against per-term charges of 2·2^-53
//                  (CrownConstant);
//   crown-fan-in   y = Σ_i x·c_i (100 products of the one input x, chained
//                  by adds), c = 1, 2^-54 × 98, -1, x = 1: the k-term sum
//                  Λ_x loses the tiny terms and cancels to 0, so the
//                  concretisation charge is 0 too (CrownFanIn);
//   crown-broadcast the same sum over broadcast positions, y = x·c with x of
//                  shape [1], c of shape [100] (CrownFanIn; ir::crown only,
//                  the kernels refuse a broadcast activation).
// Three orders of the terms each (the first fails under its mutation), since
// the sums may be evaluated in any order.
// Every bound is compared with the exact value (long double: 64-bit
// significands hold every sum here exactly) at the point that attains it,
// for the JIT kernels and for ir::ibp / ir::crown.
//
// Two more cases exist for ir::crown's per-step invariant check (below,
// checkSteps: after every backward step, spec·target(x) >= Σ_v Λ_v·z_v(x) +
// c - err at the witness, through CrownOptions::trace, in binary128):
//   crown-leaky-intercepts   the same with LeakyReLU (alpha 1/2): 1023·2^-56
//                  lost (CrownReluSum, which the LeakyReLU rule shares);
//   crown-relu-intercepts    1024 input ReLUs on [-1, 1], row (-1, -2^-54 ×
//                  1023), witness x = 1 (the upper line is tight): the
//                  intercept sum loses 1023·2^-55 (CrownReluSum);
//   crown-sigmoid-intercepts 1024 input sigmoids on [-2, -1], row (-1,
//                  -2^-55 × 1023): the intercept sum loses ~430·2^-55; the
//                  sigmoid's output is taken on the chord, since the lines'
//                  2^-40 margin would hide it (CrownSigmoidSum).
// End to end the concretisation charge covers both sums.
//
// The mutation check (RoundingMutation.*) rebuilds the kernels with one
// charge zeroed (ir/Rounding.h, setRoundingMutation) for every value of
// RoundingCharge and asserts that the suite then fails: end to end in the
// kernels and in the interpreter / ir::crown alike, except for the two
// intercept sums, which fail ir::crown's per-step check only (the kernels'
// copy of the charge is zeroed too, but nothing checks it).
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "ir/Crown.h"
#include "ir/Rounding.h"
#include "ir/ScalarRelaxation.h"
#include "runtime/VerifierLibrary.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cfloat>
#include <cmath>
#include <functional>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

namespace gma::test {
namespace {

using ir::RoundingCharge;

/// Sets the mutation knob for a scope.
struct MutationScope {
  explicit MutationScope(RoundingCharge c) { ir::setRoundingMutation(c); }
  ~MutationScope() { ir::setRoundingMutation(RoundingCharge::None); }
};

struct Case {
  std::string name;
  Graph g;
  std::vector<float> lo, hi; ///< the box (one sample)
  std::vector<float> witness; ///< the point whose exact output is checked
  std::vector<double> C;      ///< CROWN specification rows (empty: IBP only)
  int64_t rows = 0;
  /// The per-step check takes the output of the graph's one sigmoid (of the
  /// input) on the relaxation line each row uses instead of σ (checkSteps).
  bool relaxedSigmoid = false;
  /// The kernels refuse the graph (checked): interpreter and ir::crown only.
  bool irOnly = false;
};

struct Outcome {
  int kernel = 0, ir = 0; ///< failed checks
  std::ostringstream log;
};

/// lower <= v <= upper, with v exact; counts and logs a failure.
void expectEnclosed(Outcome &o, bool kernel, const std::string &what, long double lower,
                    long double v, long double upper) {
  if (lower <= v && v <= upper)
    return;
  ++(kernel ? o.kernel : o.ir);
  o.log << what << ": [" << static_cast<double>(lower) << ", " << static_cast<double>(upper)
        << "] excludes the exact " << static_cast<double>(v) << "\n";
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  const float tiny30 = 0x1p-30f, tiny60 = 0x1p-60f;
  // Three orders of (big, tiny, -big) in each case.
  const std::vector<std::vector<int>> orders = {{0, 1, 2}, {1, 0, 2}, {0, 2, 1}};
  auto permute = [](const std::vector<float> &v, const std::vector<int> &p) {
    return std::vector<float>{v[p[0]], v[p[1]], v[p[2]]};
  };
  for (size_t oi = 0; oi < orders.size(); ++oi) {
    const auto &p = orders[oi];
    std::string tag = " order " + std::to_string(oi);
    for (float sign : {1.0f, -1.0f}) {
      GraphBuilder gb;
      ValueId x = gb.input({3});
      std::vector<float> w = permute({sign, sign * tiny30, sign}, p);
      ValueId y = gb.op(OpKind::Affine, {x, gb.constant({3, 1}, w), gb.constant({1}, {0.0f})}, {1});
      gb.finish(y, -1);
      std::vector<float> xv = permute({1.0f, tiny30, -1.0f}, p);
      cs.push_back({"affine-ibp" + tag + (sign > 0 ? " +" : " -"), std::move(gb.g), xv, xv, xv,
                    {}, 0});
    }
    // The same cancellation through a 1-D conv (kernel 3 over 3 inputs, one
    // output) and a 2-D one (3×1 over 3×1): conv's interval margin.
    for (int rank : {1, 2}) {
      GraphBuilder gb;
      ir::Shape xs = rank == 1 ? ir::Shape{1, 1, 3} : ir::Shape{1, 1, 3, 1};
      ir::Shape ys = rank == 1 ? ir::Shape{1, 1, 1} : ir::Shape{1, 1, 1, 1};
      ValueId x = gb.input(xs);
      std::vector<float> w = permute({1.0f, tiny30, 1.0f}, p);
      ir::Attrs attrs;
      attrs["strides"] = Attribute::list(std::vector<int64_t>(rank, 1));
      attrs["pads"] = Attribute::list(std::vector<int64_t>(2 * rank, 0));
      attrs["dilations"] = Attribute::list(std::vector<int64_t>(rank, 1));
      attrs["group"] = Attribute::scalar(1);
      ValueId y = gb.op(OpKind::Conv, {x, gb.constant(xs, w), gb.constant({1}, {0.0f})}, ys, -1,
                        0, attrs);
      gb.finish(y, -1);
      std::vector<float> xv = permute({1.0f, tiny30, -1.0f}, p);
      cs.push_back({"conv-ibp rank " + std::to_string(rank) + tag, std::move(gb.g), xv, xv, xv,
                    {}, 0});
    }
    {
      GraphBuilder gb;
      ValueId x = gb.input({3});
      ValueId n1 = gb.op(OpKind::Neg, {x}, {3});
      ValueId n2 = gb.op(OpKind::Neg, {n1}, {3});
      gb.finish(n2, -1);
      std::vector<float> xv = permute({1.0f, tiny60, -1.0f}, p);
      cs.push_back({"crown-concretise" + tag, std::move(gb.g), xv, xv, xv,
                    {1, 1, 1, -1, -1, -1}, 2});
    }
    {
      GraphBuilder gb;
      ValueId x = gb.input({1});
      ValueId y = gb.op(OpKind::Affine,
                        {x, gb.constant({1, 3}, {0.0f, 0.0f, 0.0f}),
                         gb.constant({3}, permute({1.0f, tiny60, -1.0f}, p))},
                        {3});
      gb.finish(y, -1);
      cs.push_back({"crown-bias" + tag, std::move(gb.g), {0.5f}, {0.5f}, {0.5f},
                    {1, 1, 1, -1, -1, -1}, 2});
    }
    {
      GraphBuilder gb;
      ValueId x = gb.input({1});
      ValueId y = gb.op(OpKind::Affine,
                        {x, gb.constant({1, 3}, permute({1.0f, tiny60, -1.0f}, p)),
                         gb.constant({3}, {0.0f, 0.0f, 0.0f})},
                        {3});
      gb.finish(y, -1);
      cs.push_back({"crown-weights" + tag, std::move(gb.g), {1.0f}, {1.0f}, {1.0f},
                    {1, 1, 1, -1, -1, -1}, 2});
    }
    // The same two through a 1-D conv with three output channels (a 1x1
    // kernel over one input position): conv's backward rule in the kernels
    // and in ir::crown (CrownAffine).
    for (bool onBias : {true, false}) {
      GraphBuilder gb;
      ValueId x = gb.input({1, 1, 1});
      std::vector<float> big = permute({1.0f, tiny60, -1.0f}, p), zero(3, 0.0f);
      ir::Attrs attrs;
      attrs["strides"] = Attribute::list({1});
      attrs["pads"] = Attribute::list({0, 0});
      attrs["dilations"] = Attribute::list({1});
      attrs["group"] = Attribute::scalar(1);
      ValueId y = gb.op(OpKind::Conv,
                        {x, gb.constant({3, 1, 1}, onBias ? zero : big),
                         gb.constant({3}, onBias ? big : zero)},
                        {1, 3, 1}, -1, 0, attrs);
      gb.finish(y, -1);
      float at = onBias ? 0.5f : 1.0f;
      cs.push_back({std::string(onBias ? "crown-conv-bias" : "crown-conv-weights") + tag,
                    std::move(gb.g), {at}, {at}, {at}, {1, 1, 1, -1, -1, -1}, 2});
    }
  }
  // σ far out on both sides, through an identity affine layer; CROWN too.
  for (auto [l, h] : {std::pair{-1000.0f, -800.0f}, std::pair{800.0f, 1000.0f},
                      std::pair{-720.0f, -710.0f}, std::pair{-105.0f, -104.0f}}) {
    for (float at : {l, h}) {
      GraphBuilder gb;
      ValueId x = gb.input({1});
      ValueId a = gb.op(OpKind::Affine, {x, gb.constant({1, 1}, {1.0f}), gb.constant({1}, {0.0f})},
                        {1});
      ValueId s = gb.op(OpKind::Sigmoid, {a}, {1});
      gb.finish(s, -1);
      cs.push_back({"sigmoid [" + std::to_string(l) + ", " + std::to_string(h) + "] at " +
                        std::to_string(at),
                    std::move(gb.g), {l}, {h}, {at}, {1, -1}, 2});
    }
  }
  {
    // y = x + 1 + 2^-54 + ... + 2^-54 - 1 (20 steps), x = 0.
    GraphBuilder gb;
    ValueId v = gb.input({1});
    const int steps = 20;
    for (int i = 0; i < steps; ++i) {
      float c = i == 0 ? 1.0f : i + 1 == steps ? -1.0f : 0x1p-54f;
      v = gb.op(OpKind::Add, {v, gb.constant({1}, {c})}, {1});
    }
    gb.finish(v, -1);
    cs.push_back({"crown-chain", std::move(gb.g), {0.0f}, {0.0f}, {0.0f}, {1, -1}, 2});
  }
  // y = x·c_0 + x·c_1 + ... + x·c_{k-1} (a chain of adds of products of the
  // one input x), c = 1, 2^-54 × (k - 2), -1 in three orders, x = 1: every
  // product is exact, and Λ_x is one sum of k terms over x's k consumers. In
  // the order (1, tiny..., -1) of accumulation (the backward pass visits the
  // last product first) each tiny term is below half an ulp of 1 and is
  // lost, then 1 - 1 = 0: Λ_x = 0 against the exact (k - 2)·2^-54. Only the
  // fan-in charge γ_{k-1} (γ_k with the product's own rounding) covers it;
  // with Λ_x = 0 and c = 0 the concretisation charge is 0 (CrownFanIn).
  for (size_t oi = 0; oi < orders.size(); ++oi) {
    const int k = 100;
    // Positions in accumulation order of (1, the tiny block, -1).
    std::vector<float> acc;
    for (int part : orders[oi]) {
      if (part == 1)
        acc.insert(acc.end(), k - 2, 0x1p-54f);
      else
        acc.push_back(part == 0 ? 1.0f : -1.0f);
    }
    GraphBuilder gb;
    ValueId x = gb.input({1});
    ValueId v = ir::kNoValue;
    for (int i = 0; i < k; ++i) {
      // Schedule order is the reverse of accumulation order.
      ValueId m = gb.op(OpKind::Mul, {x, gb.constant({1}, {acc[k - 1 - i]})}, {1});
      v = v == ir::kNoValue ? m : gb.op(OpKind::Add, {v, m}, {1});
    }
    gb.finish(v, -1);
    cs.push_back({"crown-fan-in order " + std::to_string(oi), std::move(gb.g), {1.0f}, {1.0f},
                  {1.0f}, {1, -1}, 2});
  }
  // The same sum over broadcast positions: y = x·c with x of shape [1] and
  // c of shape [k], C = 1 × k (and -C): reduce-broadcast sums the k exact
  // products λ_i·c_i into Λ_x in index order (F_x = k in fanInCounts).
  // ir::crown only: the kernels refuse a broadcast activation operand.
  for (size_t oi = 0; oi < orders.size(); ++oi) {
    const int k = 100;
    std::vector<float> cv;
    for (int part : orders[oi]) {
      if (part == 1)
        cv.insert(cv.end(), k - 2, 0x1p-54f);
      else
        cv.push_back(part == 0 ? 1.0f : -1.0f);
    }
    GraphBuilder gb;
    ValueId x = gb.input({1});
    gb.finish(gb.op(OpKind::Mul, {x, gb.constant({k}, cv)}, {k}), -1);
    std::vector<double> C(2 * k, 1.0);
    std::fill(C.begin() + k, C.end(), -1.0);
    Case c{"crown-broadcast order " + std::to_string(oi), std::move(gb.g), {1.0f}, {1.0f},
           {1.0f}, C, 2};
    c.irOnly = true;
    cs.push_back(std::move(c));
  }
  // The intercept sums of the ReLU and sigmoid rules, for the per-step check
  // (end to end the concretisation charge covers them): n neurons of the
  // input, a row λ = (-1, -tiny × (n - 1)) and its negation. Each λ_j·t_j,
  // j >= 1, is below half an ulp of the partial sum λ_0·t_0 and is lost:
  // (n - 1)·|λ_j·t_j| in all, against a per-step slack of a few u.
  const int64_t n = 1024;
  auto row = [&](double tiny) {
    std::vector<double> C(2 * n, -tiny);
    C[0] = -1;
    for (int64_t j = 0; j < n; ++j)
      C[n + j] = -C[j];
    return C;
  };
  {
    // ReLU on [-1, 1]: upper line s·x + t, s = 1/2 rounded up by 4u and
    // t = s rounded up by 4u, tight at the witness x = 1 up to ~6u·|λ|
    // (s + t - 1 = 2u + 4u); λ_j·t_j ≈ 2^-55
    // below half an ulp (2^-54) of 1/2: 1023·2^-55 lost.
    GraphBuilder gb;
    ValueId x = gb.input({n});
    gb.finish(gb.op(OpKind::Relu, {x}, {n}), -1);
    cs.push_back({"crown-relu-intercepts", std::move(gb.g), std::vector<float>(n, -1.0f),
                  std::vector<float>(n, 1.0f), std::vector<float>(n, 1.0f), row(0x1p-54), 2});
  }
  {
    // LeakyReLU (alpha 1/2) on [-1, 1], the same rule with a slope: the upper
    // line through (-1, -1/2) and (1, 1), s = 3/4 and t = (s - 1/2)·1 = 1/4,
    // each rounded up, tight at x = 1; λ_j·t_j ≈ 2^-56 below half an ulp
    // (2^-55) of 1/4: 1023·2^-56 lost.
    GraphBuilder gb;
    ValueId x = gb.input({n});
    gb.finish(gb.op(OpKind::LeakyRelu, {x, gb.constant({}, {0.5f})}, {n}), -1);
    cs.push_back({"crown-leaky-intercepts", std::move(gb.g), std::vector<float>(n, -1.0f),
                  std::vector<float>(n, 1.0f), std::vector<float>(n, 1.0f), row(0x1p-54), 2});
  }
  {
    // σ on [-2, -1] (convex): λ < 0 takes the chord, intercept b ≈ 0.4186;
    // λ_j·b ≈ 0.42·2^-55 below half an ulp (2^-55) of the partial sum:
    // ~430·2^-55 lost. The chord lies about 2^-40·4 above σ (the lines'
    // margin, abi/ScalarRelax.h), so the check evaluates the sigmoid's output on
    // the line the row uses (relaxedSigmoid): the steps' rounding alone.
    GraphBuilder gb;
    ValueId x = gb.input({n});
    gb.finish(gb.op(OpKind::Sigmoid, {x}, {n}), -1);
    Case c{"crown-sigmoid-intercepts", std::move(gb.g), std::vector<float>(n, -2.0f),
           std::vector<float>(n, -1.0f), std::vector<float>(n, -1.0f), row(0x1p-55), 2};
    c.relaxedSigmoid = true;
    cs.push_back(std::move(c));
  }
  return cs;
}

/// Runs every case through the kernels (compiled now, so under the current
/// mutation) and through ir::ibp / ir::crown.
Outcome runSuite() {
  Outcome o;
  for (Case &c : cases()) {
    std::vector<long double> exact = exactForward(c.g, c.witness);
    const int64_t out = static_cast<int64_t>(exact.size());
    auto jit = codegen::JitVerifier::compile(c.g);
    if (c.irOnly) {
      // The kernels refuse the graph; should they accept it, it belongs in
      // both halves of the suite.
      if (jit) {
        ++o.kernel;
        o.log << c.name << ": the kernels accept this graph now; check them too\n";
      }
    } else if (!jit) {
      ++o.kernel;
      o.log << c.name << ": " << jit.error().str() << "\n";
      continue;
    }
    std::optional<runtime::Kernels> k;
    if (!c.irOnly)
      k.emplace((*jit)->info(), (*jit)->weights());
    // IBP, kernel and interpreter.
    std::vector<float> ylo(out), yhi(out);
    if (k)
      k->ibp(c.lo.data(), c.hi.data(), ylo.data(), yhi.data(), 1);
    auto ref = ir::ibp(c.g, {{c.lo, c.hi}}, 1);
    if (!ref) {
      ++o.ir;
      o.log << c.name << ": " << ref.error().str() << "\n";
      continue;
    }
    for (int64_t j = 0; j < out; ++j) {
      if (k)
        expectEnclosed(o, true, c.name + " ibp kernel", ylo[j], exact[j], yhi[j]);
      expectEnclosed(o, false, c.name + " ir::ibp", (*ref)[0].lo[j], exact[j], (*ref)[0].hi[j]);
    }
    if (c.rows == 0)
      continue;
    // CROWN rows come in pairs (C; -C): lower and minus the upper bound.
    long double v[8] = {};
    for (int64_t r = 0; r < c.rows; ++r)
      for (int64_t j = 0; j < out; ++j)
        v[r] += static_cast<long double>(c.C[r * out + j]) * exact[j];
    std::vector<float> lower(c.rows);
    if (k) {
      Status st = k->crown(c.lo.data(), c.hi.data(), c.C.data(), c.rows, lower.data(), nullptr, 1);
      if (!st) {
        ++o.kernel;
        o.log << c.name << ": " << st.error().str() << "\n";
        continue;
      }
    }
    auto cr = ir::crown(c.g, c.lo, c.hi, c.C, c.rows);
    if (!cr) {
      ++o.ir;
      o.log << c.name << ": " << cr.error().str() << "\n";
      continue;
    }
    const long double inf = INFINITY;
    for (int64_t r = 0; r < c.rows; ++r) {
      std::string row = " row " + std::to_string(r);
      if (k)
        expectEnclosed(o, true, c.name + " crown kernel" + row, lower[r], v[r], inf);
      expectEnclosed(o, false, c.name + " ir::crown" + row, cr->lower[r], v[r], cr->upper[r]);
    }
  }
  return o;
}

// --- the per-step invariant of ir::crown -----------------------------------
//
// After each backward step of a pass (CrownOptions::trace), for every x in
// the box and every row r (docs/soundness.md, "Invariant"):
//   (spec·target(x))_r >= Σ_v Λ_v[r]·z_v(x) + c[r] - err[r],
// with Λ_v, c and err the computed doubles and z_v(x) the exact value of v.
// It is evaluated at the case's witness in binary128 (__float128, where the
// compiler has it): every product of a double and an f32 or double is exact
// there, and each add errs by at most 2^-113 relative, so the evaluation
// allowance (terms + 8)·2^-112·Σ|terms| is some 2^-100 of the terms, plus
// the error of the witness values themselves (long double: zRelErr).

#if defined(__SIZEOF_FLOAT128__)
using Exact = __float128;
constexpr double kExactEps = 0x1p-112;
#else
using Exact = long double;
constexpr double kExactEps = 2 * LDBL_EPSILON;
#endif

Exact absE(Exact v) { return v < 0 ? -v : v; }

struct StepOutcome {
  int checked = 0, failed = 0; ///< (step, row) pairs
  std::set<std::string> failedCases;
  std::ostringstream log;
};

/// Runs ir::crown on the case with the trace on and checks the invariant
/// after every step of every pass at the witness.
void checkSteps(const Case &cs, StepOutcome &o) {
  const Graph &g = cs.g;
  std::vector<std::vector<long double>> zl = exactValues(g, cs.witness);
  std::vector<std::vector<Exact>> z(zl.size());
  for (size_t v = 0; v < zl.size(); ++v)
    z[v].assign(zl[v].begin(), zl[v].end());
  // The witness values are exact in long double (the cases' sums fit in 64
  // bits), except σ via expl, within a few ulps: 2^-60 relative on graphs
  // with a sigmoid.
  bool sigmoid = false;
  for (const ir::Op &op : g.ops)
    sigmoid = sigmoid || op.kind == OpKind::Sigmoid;
  const Exact zRelErr = sigmoid && !cs.relaxedSigmoid ? 0x1p-60 : 0;
  // relaxedSigmoid: x -> σ -> y. The invariant holds for every y between the
  // relaxation's lines, not only σ (the charges do not depend on σ); on the
  // line each row takes (upper for λ < 0) the relaxation is tight, and what
  // is left is the step's rounding. The lines are the ones ir::crown uses:
  // x is the input, whose bounds are the box.
  ValueId relaxed = ir::kNoValue;
  std::vector<ir::ScalarLines> lines;
  if (cs.relaxedSigmoid) {
    const ir::Op &op = g.ops[g.values[g.outputs[0]].def];
    EXPECT_TRUE(op.kind == OpKind::Sigmoid && op.operands[0] == g.inputs[0]) << cs.name;
    relaxed = op.result;
    for (size_t j = 0; j < cs.lo.size(); ++j)
      lines.push_back(ir::sigmoidRelaxation(cs.lo[j], cs.hi[j]));
  }
  auto value = [&](ValueId v, int64_t j, double lam) -> Exact {
    if (v != relaxed)
      return z[v][j];
    const ir::Line &l = lam < 0 ? lines[j].upper : lines[j].lower;
    return Exact(l.slope) * Exact(cs.witness[j]) + Exact(l.intercept);
  };
  ir::CrownOptions opts;
  opts.trace = [&](const ir::CrownTraceStep &st) {
    const int64_t nt = g.type(st.target).numel();
    for (int64_t r = 0; r < st.rows; ++r) {
      Exact lhs = 0, mag = 0;
      int64_t terms = 0;
      for (int64_t j = 0; j < nt; ++j) {
        const double lam = st.spec[r * nt + j];
        Exact t = Exact(lam) * value(st.target, j, lam);
        lhs += t;
        mag += absE(t);
        ++terms;
      }
      Exact rhs = Exact(st.c[r]) - Exact(st.err[r]);
      mag += absE(Exact(st.c[r])) + absE(Exact(st.err[r]));
      terms += 2;
      for (auto [v, lam] : st.lambda) {
        const int64_t nv = g.type(v).numel();
        for (int64_t j = 0; j < nv; ++j) {
          Exact t = Exact(lam[r * nv + j]) * value(v, j, lam[r * nv + j]);
          rhs += t;
          mag += absE(t);
          ++terms;
        }
      }
      const Exact allowance = (Exact(terms + 8) * Exact(kExactEps) + zRelErr) * mag;
      ++o.checked;
      if (lhs >= rhs - allowance)
        continue;
      o.failedCases.insert(cs.name);
      if (o.failed++ < 8)
        o.log << cs.name << " ir::crown " << (st.finalPass ? "final" : "intermediate")
              << (st.parallel ? " parallel" : "") << " pass, after op " << st.op << ", row " << r
              << ": spec·target = " << static_cast<double>(lhs) << " < Σ Λ·z + c - err = "
              << static_cast<double>(rhs) << " by " << static_cast<double>(rhs - lhs)
              << " (allowance " << static_cast<double>(allowance) << ")\n";
    }
  };
  auto cr = ir::crown(g, cs.lo, cs.hi, cs.C, cs.rows, opts);
  if (!cr) {
    ++o.failed;
    o.failedCases.insert(cs.name);
    o.log << cs.name << ": " << cr.error().str() << "\n";
  }
}

/// The per-step check of every CROWN case (under the current mutation).
StepOutcome runStepSuite() {
  StepOutcome o;
  for (const Case &c : cases())
    if (c.rows > 0)
      checkSteps(c, o);
  return o;
}

TEST(Rounding, EveryCancellationCaseIsEnclosed) {
  Outcome o = runSuite();
  EXPECT_EQ(o.kernel, 0) << o.log.str();
  EXPECT_EQ(o.ir, 0) << o.log.str();
}

TEST(Rounding, EveryCrownStepKeepsTheInvariant) {
  StepOutcome o = runStepSuite();
  std::cout << o.checked << " (step, row) checks\n";
  EXPECT_GT(o.checked, 0) << "the trace was never called";
  EXPECT_EQ(o.failed, 0) << o.log.str();
}

// Under directed rounding or FTZ/DAZ the rounding lemmas do not hold: the
// kernels notice at entry and answer infinite bounds (sound), and finite ones
// again once the environment is restored.
TEST(Rounding, ForeignFpEnvironmentGivesInfiniteBounds) {
  GraphBuilder gb;
  ValueId x = gb.input({2});
  ValueId y = gb.op(OpKind::Affine,
                    {x, gb.constant({2, 1}, {1.0f, -2.0f}), gb.constant({1}, {0.5f})}, {1});
  gb.finish(gb.op(OpKind::Relu, {y}, {1}), -1);
  auto jit = codegen::JitVerifier::compile(gb.g);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels k((*jit)->info(), (*jit)->weights());
  std::vector<float> lo = {0.0f, 0.0f}, hi = {1.0f, 0.25f};
  std::vector<double> C = {1.0, -1.0};
  auto run = [&](std::vector<float> &ylo, std::vector<float> &yhi, std::vector<float> &lower,
                 const std::function<void()> &enter, const std::function<void()> &leave) {
    ylo.assign(1, NAN);
    yhi.assign(1, NAN);
    lower.assign(2, NAN);
    enter();
    k.ibp(lo.data(), hi.data(), ylo.data(), yhi.data(), 1);
    Status st = k.crown(lo.data(), hi.data(), C.data(), 2, lower.data(), nullptr, 1);
    leave();
    ASSERT_TRUE(st) << st.error().str();
  };
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> ylo, yhi, lower;
  for (int mode : {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO}) {
    SCOPED_TRACE("rounding mode " + std::to_string(mode));
    int old = std::fegetround();
    run(ylo, yhi, lower, [&] { std::fesetround(mode); }, [&] { std::fesetround(old); });
    EXPECT_EQ(ylo[0], -inf);
    EXPECT_EQ(yhi[0], inf);
    EXPECT_EQ(lower[0], -inf);
    EXPECT_EQ(lower[1], -inf);
  }
#if defined(__SSE2__)
  for (unsigned bits : {0x8000u /*FTZ*/, 0x0040u /*DAZ*/}) {
    SCOPED_TRACE("MXCSR bits " + std::to_string(bits));
    unsigned csr = _mm_getcsr();
    run(ylo, yhi, lower, [&] { _mm_setcsr(csr | bits); }, [&] { _mm_setcsr(csr); });
    EXPECT_EQ(ylo[0], -inf);
    EXPECT_EQ(yhi[0], inf);
    EXPECT_EQ(lower[0], -inf);
  }
#endif
  // The default environment: finite, sound bounds (y in [0, 1.5]).
  run(ylo, yhi, lower, [] {}, [] {});
  EXPECT_LE(ylo[0], 0.0f);
  EXPECT_GE(yhi[0], 1.5f);
  EXPECT_LT(yhi[0], 1.6f);
  EXPECT_GT(lower[1], -1.6f);
}

// Each charge zeroed in turn (every value of RoundingCharge: a value without
// an entry here fails the test): the suite must notice. For most charges the
// end-to-end checks fail, in the kernels and in the interpreter / ir::crown
// alike. The ReLU and sigmoid rules' intercept sums are dominated end to end
// by the concretisation charge (docs/soundness.md, "What the mutation check
// covers"), so for them only ir::crown's per-step invariant check fails. The
// kernels' charge is zeroed by the same knob, but their per-step state is
// not observable: that they carry the charge rests on CrownEmitter emitting
// ir::crown's formula (the same γ_n·|λ·t| per term, summed in another order),
// not on a failing kernel check.
TEST(RoundingMutation, EachZeroedChargeFailsTheSuite) {
  struct Knob {
    RoundingCharge charge;
    const char *name;
    const char *stepCase; ///< null: end to end; else the case the step check must fail
    const char *stepCase2 = nullptr; ///< a second case the step check must fail
    const char *elsewhere = nullptr; ///< the test that checks this charge instead
  };
  const Knob knobs[] = {
      {RoundingCharge::AffineIbp, "AffineIbp", nullptr},
      {RoundingCharge::SigmoidFloor, "SigmoidFloor", nullptr},
      {RoundingCharge::CrownAffine, "CrownAffine", nullptr},
      {RoundingCharge::CrownConstant, "CrownConstant", nullptr},
      {RoundingCharge::CrownConcretise, "CrownConcretise", nullptr},
      {RoundingCharge::CrownFanIn, "CrownFanIn", nullptr},
      {RoundingCharge::CrownReluSum, "CrownReluSum", "crown-relu-intercepts",
       "crown-leaky-intercepts"},
      {RoundingCharge::CrownSigmoidSum, "CrownSigmoidSum", "crown-sigmoid-intercepts"},
      // A double-precision margin on lines the f32 bounds round outward anyway:
      // invisible end to end; the long-double sweep of the lines sees it.
      {RoundingCharge::ScalarLines, "ScalarLines", nullptr, nullptr,
       "ir_tests ScalarRelaxation.ZeroedMarginFailsTheSweep"},
      // The same for the max rule's charge for the rounding of 1 - s.
      {RoundingCharge::MaxCoefficient, "MaxCoefficient", nullptr, nullptr,
       "ir_tests MaxRelaxation.ZeroedCoefficientChargeFailsTheSweep"},
  };
  for (int i = static_cast<int>(RoundingCharge::None) + 1;
       i < static_cast<int>(RoundingCharge::Count); ++i) {
    const auto charge = static_cast<RoundingCharge>(i);
    const Knob *k = nullptr;
    for (const Knob &kn : knobs)
      if (kn.charge == charge)
        k = &kn;
    if (!k) {
      ADD_FAILURE() << "RoundingCharge " << i << " has no case in the mutation check";
      continue;
    }
    SCOPED_TRACE(k->name);
    if (k->elsewhere) {
      std::cout << k->name << " zeroed: checked by " << k->elsewhere << "\n";
      continue;
    }
    Outcome o;
    StepOutcome so;
    {
      MutationScope scope(charge);
      o = runSuite();
      so = runStepSuite();
    }
    std::string log = o.log.str(), slog = so.log.str();
    std::cout << k->name << " zeroed: " << o.kernel << " kernel, " << o.ir
              << " interpreter / ir::crown and " << so.failed << " of " << so.checked
              << " per-step checks fail; e.g. "
              << (k->stepCase ? slog.substr(0, slog.find('\n')) : log.substr(0, log.find('\n')))
              << "\n";
    if (charge == RoundingCharge::CrownAffine) {
      // Affine's and conv's backward rules are separate code in the kernels.
      EXPECT_NE(log.find("crown-conv-bias order 0 crown kernel"), std::string::npos) << log;
      EXPECT_NE(log.find("crown-conv-weights order 0 crown kernel"), std::string::npos) << log;
      EXPECT_NE(log.find("crown-conv-bias order 0 ir::crown"), std::string::npos) << log;
    }
    if (charge == RoundingCharge::AffineIbp) {
      // Affine's and conv's interval margins are separate code in the kernels.
      EXPECT_NE(log.find("conv-ibp rank 1 order 0 ibp kernel"), std::string::npos) << log;
      EXPECT_NE(log.find("conv-ibp rank 2 order 0 ibp kernel"), std::string::npos) << log;
      EXPECT_NE(log.find("conv-ibp rank 1 order 0 ir::ibp"), std::string::npos) << log;
    }
    if (!k->stepCase) {
      EXPECT_GT(o.kernel, 0) << k->name << " zeroed: every kernel check still passes";
      EXPECT_GT(o.ir, 0) << k->name << " zeroed: every interpreter / ir::crown check still passes";
    } else {
      for (const char *name : {k->stepCase, k->stepCase2})
        if (name)
          EXPECT_EQ(so.failedCases.count(name), 1u)
              << k->name << " zeroed: the per-step check of " << name << " still passes\n"
              << slog;
    }
  }
  EXPECT_EQ(ir::roundingMutation(), RoundingCharge::None);
}

} // namespace
} // namespace gma::test

//===- test/unit/codegen/ActivationBabTest.cpp - ReLU-phase splitting ------===//
//
// Branch and bound with activation splits (runtime/Bab.h, Splitting::
// Activation) on JIT-compiled random ReLU MLPs through the crown kernel's
// bounds_in/bounds_out: for thresholds around the sampled minimum of
// y0 - y1 (some properties true, some false), its verdicts never contradict
// those of input splitting (which decides these 3-input problems), every
// counterexample holds, and it proves properties that the root bound does
// not (the splits are used, and their subdomains are sound). Each search
// stops after 1.5 s.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "runtime/Bab.h"
#include "runtime/KernelEngine.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <limits>

namespace gma::test {
namespace {

using codegen::JitVerifier;
using runtime::Splitting;
using runtime::Verdict;

Graph reluMlp(std::mt19937 &rng, const std::vector<int64_t> &widths) {
  GraphBuilder gb;
  ValueId v = gb.input({widths[0]});
  for (size_t l = 1; l < widths.size(); ++l) {
    v = randomAffine(gb, rng, v, widths[l - 1], widths[l],
                     2.0f / std::sqrt(static_cast<float>(widths[l - 1])), 0.3f);
    if (l + 1 < widths.size())
      v = gb.op(OpKind::Relu, {v}, {widths[l]});
  }
  gb.finish(v, -1);
  return std::move(gb.g);
}

/// Unsafe iff y0 - y1 <= d somewhere in the box.
runtime::Spec marginSpec(const std::vector<float> &lo, const std::vector<float> &hi, double d) {
  runtime::Spec s;
  s.numInputs = static_cast<int64_t>(lo.size());
  s.numOutputs = 2;
  runtime::SpecCase c;
  c.outerLo = c.innerLo = lo;
  c.outerHi = c.innerHi = hi;
  c.disjuncts.push_back(runtime::Conjunction{1, {1.0, -1.0}, {d}, {}});
  s.cases.push_back(std::move(c));
  return s;
}

runtime::BabResult solve(const runtime::BoundEngine &e, const runtime::Spec &spec, Splitting how) {
  runtime::BabOptions o;
  o.deterministic = true;
  o.splitting = how;
  o.stop.hasDeadline = true;
  o.stop.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  o.maxDomains = 50000;
  if (how == Splitting::Activation) {
    // No attacks: a false property must be found false by the search's own
    // candidates (a subdomain's centre and linear minimiser), so a split
    // that lost part of its parent would show as a wrong unsat.
    o.falsifyFirst = false;
    o.attackEvery = 0;
    o.wideStarts = 0;
  }
  return runtime::verify(e, spec, o);
}

TEST(ActivationBab, AgreesWithInputSplittingAndUsesItsSplits) {
  std::mt19937 rng(11);
  int decided = 0, provedBySplits = 0, sat = 0;
  for (int net = 0; net < 6; ++net) {
    Graph g = reluMlp(rng, {3, 12, 12, 2});
    auto jit = JitVerifier::compile(g);
    ASSERT_TRUE(jit) << jit.error().str();
    runtime::KernelEngine engine((*jit)->info(), (*jit)->weights());
    ASSERT_NE(engine.relaxedValues(), nullptr);
    std::vector<float> lo = randomVector(rng, 3), hi = lo;
    for (int64_t i = 0; i < 3; ++i) {
      lo[i] -= 0.6f;
      hi[i] += 0.6f;
    }
    // The sampled minimum of y0 - y1.
    double m = std::numeric_limits<double>::infinity();
    for (int s = 0; s < 4000; ++s) {
      std::vector<float> x(3), y(2);
      for (int64_t i = 0; i < 3; ++i)
        x[i] = lo[i] + std::uniform_real_distribution<float>(0, 1)(rng) * (hi[i] - lo[i]);
      engine.eval(x.data(), y.data(), 1);
      m = std::min(m, static_cast<double>(y[0]) - y[1]);
    }
    for (double delta : {-0.05, -0.01, 0.01, 0.05, 0.2}) {
      SCOPED_TRACE("net " + std::to_string(net) + " delta " + std::to_string(delta));
      runtime::Spec spec = marginSpec(lo, hi, m + delta);
      runtime::BabResult act = solve(engine, spec, Splitting::Activation);
      runtime::BabResult inp = solve(engine, spec, Splitting::Input);
      ASSERT_EQ(inp.reason.find("error"), std::string::npos) << inp.reason;
      const bool actDecided = act.verdict == Verdict::Sat || act.verdict == Verdict::Unsat;
      if (actDecided && (inp.verdict == Verdict::Sat || inp.verdict == Verdict::Unsat)) {
        EXPECT_EQ(act.verdict, inp.verdict) << act.reason << " / " << inp.reason;
      }
      if (act.verdict == Verdict::Sat) {
        ASSERT_TRUE(act.counterexample);
        const auto &x = act.counterexample->x;
        std::vector<float> y(2);
        engine.eval(x.data(), y.data(), 1);
        EXPECT_LE(static_cast<double>(y[0]) - y[1], m + delta);
        for (int64_t i = 0; i < 3; ++i) {
          EXPECT_GE(x[i], lo[i]);
          EXPECT_LE(x[i], hi[i]);
        }
        ++sat;
      }
      decided += actDecided;
      std::printf("net %d delta %+.2f: activation %s (%lld domains, %.2f s) input %s (%lld)\n", net,
                  delta, runtime::verdictName(act.verdict),
                  static_cast<long long>(act.stats.domains), act.stats.seconds,
                  runtime::verdictName(inp.verdict), static_cast<long long>(inp.stats.domains));
      // A proof that needed subdomains: more than the root was bounded.
      if (act.verdict == Verdict::Unsat && act.stats.domains > 1)
        ++provedBySplits;
    }
  }
  EXPECT_GE(decided, 20);
  EXPECT_GT(sat, 0);
  // Without split constraints on the inputs (β-CROWN) a subdomain whose
  // phases no input realises cannot be refuted, so input splitting proves
  // more of these 3-input problems; activation splits still prove some.
  EXPECT_GE(provedBySplits, 1);
}

TEST(ActivationBab, EngineWithoutSubdomainsFallsBackToInputs) {
  // Splitting::Activation on an engine that cannot bound subdomains (a ReLU
  // of the input only: nothing to split) still decides by input splits.
  std::mt19937 rng(12);
  GraphBuilder gb;
  ValueId x = gb.input({2});
  ValueId r = gb.op(OpKind::Relu, {x}, {2});
  gb.finish(randomAffine(gb, rng, r, 2, 2), -1);
  Graph g = std::move(gb.g);
  auto jit = JitVerifier::compile(g);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::KernelEngine engine((*jit)->info(), (*jit)->weights());
  EXPECT_EQ(engine.relaxedValues(), nullptr);
  runtime::BabResult res =
      solve(engine, marginSpec({-1, -1}, {1, 1}, -1e6), Splitting::Activation);
  EXPECT_EQ(res.verdict, Verdict::Unsat) << res.reason;
}

} // namespace
} // namespace gma::test

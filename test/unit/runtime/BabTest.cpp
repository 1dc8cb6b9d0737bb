//===- test/unit/runtime/BabTest.cpp - Branch and bound on tiny networks --===//
//
// Hand-made one-hidden-layer ReLU networks y = W2·relu(W1·x + b1) + b2 with
// known answers, behind a small BoundEngine written here (CROWN for one hidden
// layer, in double, with a slack far above its rounding error: the numbers
// below are small and exact).
//
//===----------------------------------------------------------------------===//
#include "runtime/Bab.h"
#include "runtime/Falsify.h"
#include "runtime/Result.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace gma;
using namespace gma::runtime;

namespace {

using Clock = std::chrono::steady_clock;


/// y = W2·relu(W1·x + b1) + b2; W1 is hidden × in, W2 is out × hidden.
class TinyNet : public BoundEngine {
public:
  TinyNet(int64_t in, int64_t hidden, int64_t out, std::vector<double> W1, std::vector<double> b1,
          std::vector<double> W2, std::vector<double> b2)
      : n_(in), h_(hidden), m_(out), W1_(std::move(W1)), b1_(std::move(b1)), W2_(std::move(W2)),
        b2_(std::move(b2)) {}

  /// Sound bounds that never refute anything (for timeouts and leaves).
  bool hopeless = false;

  int64_t inputSize() const override { return n_; }
  int64_t outputSize() const override { return m_; }

  void eval(const float *x, float *y, int64_t batch) const override {
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<float> z(h_);
      for (int64_t i = 0; i < h_; ++i) {
        float s = static_cast<float>(b1_[i]);
        for (int64_t j = 0; j < n_; ++j)
          s += static_cast<float>(W1_[i * n_ + j]) * x[b * n_ + j];
        z[i] = std::max(s, 0.0f);
      }
      for (int64_t k = 0; k < m_; ++k) {
        float s = static_cast<float>(b2_[k]);
        for (int64_t i = 0; i < h_; ++i)
          s += static_cast<float>(W2_[k * h_ + i]) * z[i];
        y[b * m_ + k] = s;
      }
    }
  }

  Status lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                     int64_t rows, float *lower, float *inputCoefs) const override {
    for (int64_t b = 0; b < batch; ++b) {
      const float *l = lo + b * n_, *u = hi + b * n_;
      std::vector<double> zl(h_), zu(h_);
      for (int64_t i = 0; i < h_; ++i) {
        zl[i] = zu[i] = b1_[i];
        for (int64_t j = 0; j < n_; ++j) {
          double w = W1_[i * n_ + j];
          zl[i] += w > 0 ? w * l[j] : w * u[j];
          zu[i] += w > 0 ? w * u[j] : w * l[j];
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        double cst = 0;
        std::vector<double> lam(h_, 0.0), g(n_, 0.0);
        for (int64_t k = 0; k < m_; ++k) {
          cst += C[r * m_ + k] * b2_[k];
          for (int64_t i = 0; i < h_; ++i)
            lam[i] += C[r * m_ + k] * W2_[k * h_ + i];
        }
        for (int64_t i = 0; i < h_; ++i) {
          double coef; // on z_i
          if (zl[i] >= 0) {
            coef = lam[i];
          } else if (zu[i] <= 0) {
            coef = 0;
          } else if (lam[i] >= 0) {
            coef = zu[i] > -zl[i] ? lam[i] : 0.0;
          } else {
            double s = zu[i] / (zu[i] - zl[i]);
            coef = lam[i] * s;
            cst += lam[i] * (-s * zl[i]);
          }
          cst += coef * b1_[i];
          for (int64_t j = 0; j < n_; ++j)
            g[j] += coef * W1_[i * n_ + j];
        }
        double v = cst, mag = std::fabs(cst);
        for (int64_t j = 0; j < n_; ++j) {
          v += g[j] > 0 ? g[j] * l[j] : g[j] * u[j];
          mag += std::fabs(g[j]) * std::max(std::fabs(l[j]), std::fabs(u[j]));
        }
        v -= 1e-9 * (1 + mag);
        float f = static_cast<float>(v);
        if (f > v)
          f = std::nextafter(f, -INFINITY);
        lower[b * rows + r] = hopeless ? -INFINITY : f;
        if (inputCoefs) {
          float *row = inputCoefs + (b * rows + r) * (n_ + 1);
          double slack = 1e-9 * (1 + mag);
          for (int64_t j = 0; j < n_; ++j) {
            row[j] = static_cast<float>(g[j]);
            slack += std::fabs(g[j] - row[j]) * std::max(std::fabs(l[j]), std::fabs(u[j]));
          }
          double off = cst - 2 * slack;
          float fo = static_cast<float>(off);
          if (fo > off)
            fo = std::nextafter(fo, -INFINITY);
          row[n_] = hopeless ? -INFINITY : fo;
        }
      }
    }
    calls.fetch_add(1);
    return Status::ok();
  }

  void gradient(const float *x, const double *c, float *grad, int64_t batch) const override {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < n_; ++j) {
        double s = 0;
        for (int64_t i = 0; i < h_; ++i) {
          double z = b1_[i];
          for (int64_t q = 0; q < n_; ++q)
            z += W1_[i * n_ + q] * x[b * n_ + q];
          if (z <= 0)
            continue;
          double lam = 0;
          for (int64_t k = 0; k < m_; ++k)
            lam += c[k] * W2_[k * h_ + i];
          s += lam * W1_[i * n_ + j];
        }
        grad[b * n_ + j] = static_cast<float>(s);
      }
  }

  mutable std::atomic<int64_t> calls{0};

private:
  int64_t n_, h_, m_;
  std::vector<double> W1_, b1_, W2_, b2_;
};

/// One case: box [lo, hi] (exact floats: inner = outer) and conjunctions.
Spec oneCase(std::vector<float> lo, std::vector<float> hi, std::vector<Conjunction> disjuncts,
             int64_t outputs) {
  Spec s;
  s.numInputs = static_cast<int64_t>(lo.size());
  s.numOutputs = outputs;
  SpecCase c;
  c.outerLo = c.innerLo = std::move(lo);
  c.outerHi = c.innerHi = std::move(hi);
  c.disjuncts = std::move(disjuncts);
  s.cases.push_back(std::move(c));
  return s;
}

/// y <= d (one output) as a conjunction; sign -1 gives y >= -d.
Conjunction yAtMost(double d, double sign = 1) { return Conjunction{1, {sign}, {d}, {}}; }

/// |x0| = relu(x0) + relu(-x0), with x1.. ignored.
TinyNet absNet(int64_t inputs = 1) {
  std::vector<double> W1(2 * inputs, 0.0);
  W1[0] = 1;
  W1[inputs] = -1;
  return TinyNet(inputs, 2, 1, W1, {0, 0}, {1, 1}, {0});
}

/// A dip of depth 1 and half-width 0.0005 around x = 0.3005 in y = 1:
/// y = 1 - 2000·relu(x-0.3) + 4000·relu(x-0.3005) - 2000·relu(x-0.301).
TinyNet dipNet() {
  return TinyNet(1, 3, 1, {1, 1, 1}, {-0.3, -0.3005, -0.301}, {-2000, 4000, -2000}, {1});
}

/// Checks a counterexample independently of the runtime: x in the box, the
/// network's f32 output, every row of the conjunction.
void expectValidCex(const TinyNet &net, const Spec &spec, const Counterexample &cex) {
  const SpecCase &c = spec.cases[cex.caseIndex];
  ASSERT_EQ(static_cast<int64_t>(cex.x.size()), spec.numInputs);
  for (int64_t i = 0; i < spec.numInputs; ++i) {
    EXPECT_GE(cex.x[i], c.innerLo[i]);
    EXPECT_LE(cex.x[i], c.innerHi[i]);
  }
  std::vector<float> y(spec.numOutputs);
  net.eval(cex.x.data(), y.data(), 1);
  EXPECT_EQ(y, cex.y);
  const Conjunction &conj = c.disjuncts[cex.disjunct];
  for (int64_t r = 0; r < conj.rows; ++r) {
    double s = 0;
    for (int64_t k = 0; k < spec.numOutputs; ++k)
      s += conj.C[r * spec.numOutputs + k] * y[k];
    EXPECT_LE(s, conj.d[r]);
  }
}

BabOptions quiet() {
  BabOptions o;
  o.deterministic = true;
  return o;
}

// |x| >= 0 everywhere: "y <= -0.01" is unreachable. On the asymmetric box
// [-1, 2] CROWN's root bound is -1 (the relaxation of relu(-x) drops it), so
// the proof needs splits near 0.
TEST(Bab, AbsoluteValueIsNeverNegative) {
  TinyNet net = absNet();
  Spec spec = oneCase({-1}, {2}, {yAtMost(-0.01)}, 1);
  BabResult r = verify(net, spec, quiet());
  EXPECT_EQ(r.verdict, Verdict::Unsat);
  EXPECT_FALSE(r.counterexample);
  EXPECT_GT(r.stats.domains, 1);
  EXPECT_EQ(r.stats.unresolved, 0);
}

// The progress callback sees the statistics round by round (gamma verify's
// watchdog reports the last ones when it answers for an overrunning search):
// rounds count up from 0, domains never decrease, the last report is behind
// the final statistics.
TEST(Bab, ProgressReportsStatisticsEveryRound) {
  TinyNet net = absNet();
  Spec spec = oneCase({-1}, {2}, {yAtMost(-0.01)}, 1);
  BabOptions o = quiet();
  std::vector<BabStats> seen;
  o.progress = [&](const BabStats &st) { seen.push_back(st); };
  BabResult r = verify(net, spec, o);
  ASSERT_EQ(r.verdict, Verdict::Unsat);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().rounds, 0);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].rounds, seen[i - 1].rounds);
    EXPECT_GE(seen[i].domains, seen[i - 1].domains);
  }
  EXPECT_GT(seen.back().domains, 0);
  EXPECT_LE(seen.back().domains, r.stats.domains);
  EXPECT_LE(seen.back().rounds, r.stats.rounds);
}

// "|x| <= 0.2 and |x| >= 0.5" holds nowhere, but each row alone holds
// somewhere in [-1, 2], so no single row's bound refutes the root. The sum
// of the two rows (0 <= -0.3) does at once; without it the search splits.
TEST(Bab, CombinedRowsRefuteContradictoryRows) {
  TinyNet net = absNet();
  Conjunction both{2, {1, -1}, {0.2, -0.5}, {}};
  Spec spec = oneCase({-1}, {2}, {both}, 1);
  BabResult r = verify(net, spec, quiet());
  EXPECT_EQ(r.verdict, Verdict::Unsat);
  EXPECT_EQ(r.stats.domains, 1);
  BabOptions o = quiet();
  o.combineRows = false;
  BabResult plain = verify(net, spec, o);
  EXPECT_EQ(plain.verdict, Verdict::Unsat);
  EXPECT_GT(plain.stats.domains, 1);
}

// The same proof in 2-D with an irrelevant, much wider x1: splitting the
// widest dimension would never finish; the input coefficients point at x0.
TEST(Bab, SmartSplitIgnoresIrrelevantWideDimension) {
  TinyNet net = absNet(2);
  Spec spec = oneCase({-1, -1000}, {2, 1000}, {yAtMost(-0.01)}, 1);
  BabOptions o = quiet();
  o.stop.hasDeadline = true;
  o.stop.deadline = Clock::now() + std::chrono::seconds(5);
  BabResult r = verify(net, spec, o);
  EXPECT_EQ(r.verdict, Verdict::Unsat);
  EXPECT_LT(r.stats.domains, 200);
}

// The dip reaches y = 0 on |x - 0.3005| < 0.00025: "y <= 0.5" is sat there.
// Without falsification BaB itself must find it (domain centres and linear
// bound minimisers are evaluated).
TEST(Bab, NarrowViolationFoundByBranchAndBound) {
  TinyNet net = dipNet();
  Spec spec = oneCase({0}, {1}, {yAtMost(0.5)}, 1);
  BabOptions o = quiet();
  o.falsifyFirst = false;
  o.attackEvery = 0;
  BabResult r = verify(net, spec, o);
  ASSERT_EQ(r.verdict, Verdict::Sat);
  ASSERT_TRUE(r.counterexample);
  expectValidCex(net, spec, *r.counterexample);
  EXPECT_NEAR(r.counterexample->x[0], 0.3005, 0.0003);
}

// With everything on, the answer is the same whatever finds it.
TEST(Bab, NarrowViolationFoundWithFalsification) {
  TinyNet net = dipNet();
  Spec spec = oneCase({0}, {1}, {yAtMost(0.5)}, 1);
  BabOptions o;
  o.threads = 2;
  BabResult r = verify(net, spec, o);
  ASSERT_EQ(r.verdict, Verdict::Sat);
  expectValidCex(net, spec, *r.counterexample);
}

// PGD climbs y = relu(x0 + x1) to the corner region x0 + x1 >= 1.9 of [0, 1]²
// from random starts (no sampling).
TEST(Falsify, PgdReachesTheUnsafeCorner) {
  TinyNet net(2, 1, 1, {1, 1}, {0}, {1}, {0});
  Spec spec = oneCase({0, 0}, {1, 1}, {yAtMost(-1.9, -1)}, 1);
  FalsifyOptions fo;
  fo.samplesPerCase = 0;
  fo.restarts = 2;
  fo.steps = 40;
  auto cex = falsify(net, spec, fo, StopCondition{});
  ASSERT_TRUE(cex);
  expectValidCex(net, spec, *cex);
}

// The gate: an input outside the box, or one that misses a row, is refused.
TEST(Falsify, ConfirmRefusesOutsideOrUnsatisfying) {
  TinyNet net = absNet();
  Spec spec = oneCase({-1}, {1}, {yAtMost(0.25)}, 1);
  float inside = 0.125f, outside = 1.0000001f, far = 0.5f;
  EXPECT_TRUE(confirm(net, spec, 0, &inside));
  EXPECT_FALSE(confirm(net, spec, 0, &outside));
  EXPECT_FALSE(confirm(net, spec, 0, &far));
}

// Two conjunctions: y <= -1 is refuted, y >= 0.9 holds near the box's ends.
TEST(Bab, DisjunctionReportsTheSatisfiedConjunction) {
  TinyNet net = absNet();
  Spec spec = oneCase({-1}, {1}, {yAtMost(-1), yAtMost(-0.9, -1)}, 1);
  BabResult r = verify(net, spec, quiet());
  ASSERT_EQ(r.verdict, Verdict::Sat);
  EXPECT_EQ(r.counterexample->disjunct, 1);
  expectValidCex(net, spec, *r.counterexample);
}

// Bounds that refute nothing on an 8-D box: the search cannot end by itself,
// so ending at all (as `timeout`) shows the deadline is honoured. (No
// wall-clock bound here: CTest's own limit catches a hang.)
TEST(Bab, TimeoutIsHonoured) {
  TinyNet net(8, 1, 1, std::vector<double>(8, 0.0), {1}, {1}, {0}); // y = 1
  net.hopeless = true;
  Spec spec = oneCase(std::vector<float>(8, -1), std::vector<float>(8, 1), {yAtMost(0)}, 1);
  BabOptions o;
  o.threads = 2;
  o.stop.hasDeadline = true;
  o.stop.deadline = Clock::now() + std::chrono::milliseconds(50);
  BabResult r = verify(net, spec, o);
  EXPECT_EQ(r.verdict, Verdict::Timeout);
  EXPECT_FALSE(r.cancelled);
  EXPECT_GT(r.stats.domains, 0);
}

// Another thread cancels the same endless search.
TEST(Bab, CancellationStopsTheSearch) {
  TinyNet net(8, 1, 1, std::vector<double>(8, 0.0), {1}, {1}, {0});
  net.hopeless = true;
  Spec spec = oneCase(std::vector<float>(8, -1), std::vector<float>(8, 1), {yAtMost(0)}, 1);
  std::atomic<bool> cancel{false};
  BabOptions o;
  o.threads = 2;
  o.stop.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancel.store(true);
  });
  BabResult r = verify(net, spec, o);
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.verdict, Verdict::Unknown);
}

// A box one f32 wide cannot be split; the bounds cannot decide it and the
// centre is no counterexample: unknown, never unsat.
TEST(Bab, UnsplittableUndecidedDomainIsUnknown) {
  TinyNet net(1, 1, 1, {0}, {1}, {1}, {0}); // y = 1
  net.hopeless = true;
  float lo = 1.0f, hi = std::nextafter(1.0f, 2.0f);
  Spec spec = oneCase({lo}, {hi}, {yAtMost(0)}, 1);
  BabResult r = verify(net, spec, quiet());
  EXPECT_EQ(r.verdict, Verdict::Unknown);
  EXPECT_GT(r.stats.unresolved, 0);
}

// Deterministic mode: the same statistics on every run.
TEST(Bab, DeterministicModeRepeatsItself) {
  TinyNet net(2, 4, 1, {1, 1, 1, -1, -1, 1, -1, -1}, {0, 0, 0, 0}, {1, 1, 1, 1}, {0});
  // y = sum |x0 ± x1| >= 0; "y <= -0.01" is unsat.
  Spec spec = oneCase({-1, -0.5f}, {2, 1.5f}, {yAtMost(-0.01)}, 1);
  BabOptions o = quiet();
  o.batch = 4;
  BabResult a = verify(net, spec, o), b = verify(net, spec, o);
  EXPECT_EQ(a.verdict, Verdict::Unsat);
  EXPECT_EQ(a.verdict, b.verdict);
  EXPECT_EQ(a.stats.domains, b.stats.domains);
  EXPECT_EQ(a.stats.boundCalls, b.stats.boundCalls);
  EXPECT_EQ(a.stats.rounds, b.stats.rounds);
  EXPECT_EQ(a.stats.maxQueue, b.stats.maxQueue);
  EXPECT_GT(a.stats.domains, 4);
  // Several threads may order the work differently but reach the same verdict.
  BabOptions par;
  par.threads = 2;
  EXPECT_EQ(verify(net, spec, par).verdict, Verdict::Unsat);
}

// Split rules run as separate searches taking rounds in turn: each rule alone
// proves the property, and together they cost at most about twice the
// better one (plus a round of each), whichever it is.
TEST(Bab, SplitRulesTakeTurns) {
  TinyNet net(2, 4, 1, {1, 1, 1, -1, -1, 1, -1, -1}, {0, 0, 0, 0}, {1, 1, 1, 1}, {0});
  Spec spec = oneCase({-1, -0.5f}, {2, 1.5f}, {yAtMost(-0.01)}, 1);
  BabOptions o = quiet();
  o.batch = 4;
  int64_t best = std::numeric_limits<int64_t>::max();
  for (int rule : {1, 8}) {
    o.lookaheads = {rule};
    BabResult r = verify(net, spec, o);
    EXPECT_EQ(r.verdict, Verdict::Unsat) << "lookahead " << rule;
    best = std::min(best, r.stats.domains);
  }
  o.lookaheads = {8, 1};
  BabResult both = verify(net, spec, o);
  EXPECT_EQ(both.verdict, Verdict::Unsat);
  EXPECT_LE(both.stats.domains, 2 * best + 2 * (o.batch + 4));
  EXPECT_GE(both.stats.domains, best);
}

TEST(Result, VnnCompTextAndJson) {
  BabResult r;
  r.verdict = Verdict::Sat;
  r.counterexample = Counterexample{0, 0, {0.1f, -0.5f}, {3.25f}, {}};
  EXPECT_EQ(resultText(r), "sat\n((X_0 0.10000000149011612)\n (X_1 -0.5)\n (Y_0 3.25))\n");
  // The printed value reads back as the exact f32.
  EXPECT_EQ(static_cast<float>(std::stod("0.10000000149011612")), 0.1f);
  std::string j = resultJson(r);
  EXPECT_NE(j.find("\"verdict\":\"sat\""), std::string::npos);
  EXPECT_NE(j.find("\"x\":[0.10000000149011612,-0.5]"), std::string::npos);
  r.verdict = Verdict::Unsat;
  r.counterexample.reset();
  EXPECT_EQ(resultText(r), "unsat\n");
  EXPECT_NE(resultJson(r).find("\"counterexample\":null"), std::string::npos);
  r.verdict = Verdict::Timeout;
  EXPECT_EQ(resultText(r), "timeout\n");
}

TEST(Result, WriteResultFileReplacesAtomically) {
  std::string path = ::testing::TempDir() + "gamma_result_test_" + std::to_string(getpid()) + ".txt";
  ASSERT_TRUE(static_cast<bool>(writeResultFile(path, "unknown\n")));
  ASSERT_TRUE(static_cast<bool>(writeResultFile(path, "unsat\n")));
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "unsat\n");
  std::remove(path.c_str());
  // Never renamed over a device, and never into a folder that is missing.
  for (const char *target : {"/nonexistent-dir/result.txt", "/dev/null"}) {
    Status bad = writeResultFile(target, "sat\n");
    ASSERT_FALSE(static_cast<bool>(bad)) << target;
    EXPECT_EQ(bad.error().code(), ErrorCode::OutputTarget) << target;
  }
}

} // namespace

//===- test/unit/ir/OpRecordTest.cpp - Every op record against itself -----===//
//
// The generic op test (issue 11, Deliver 1): for every row of ir/Ops.def, its
// record's random instances (small shapes, constants on either side) must
//   - pass the IR verifier (the shape rule and the verifier agree);
//   - evaluate in f32 close to f64 (the two instantiations of one rule);
//   - have interval bounds that contain the f64 value at sampled points of a
//     random box, its two extreme corners and random vertices;
//   - have interval bounds of a point box that are tight (a rule that answers
//     [-inf, inf] is sound and useless: this is what makes it fail);
//   - where the record has a CROWN rule and the instance one input: have
//     CROWN linear bounds (the input coefficients, before any intersection
//     with IBP) that hold at every sample, and are tight on a point box;
//   - where the record has a gradient rule and the instance one input: have
//     a reference gradient (ir::inputGradient) equal to central finite
//     differences of the f64 evaluation.
// A new op kind gets all of this by adding its record; the test fails if a
// kind other than const yields no instance.
//
//===----------------------------------------------------------------------===//
#include "ir/Crown.h"
#include "ir/Interpreter.h"
#include "ir/OpRecord.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>

namespace gma::ir {
namespace {

constexpr int kInstances = 150;

struct Box {
  std::vector<IntervalBuffer> in;
};

Box randomBox(const Graph &g, std::mt19937_64 &rng, bool point) {
  Box b;
  std::uniform_real_distribution<float> d(-4.0f, 4.0f), w(0.0f, 2.0f);
  for (ValueId v : g.inputs) {
    int64_t n = g.type(v).numel();
    IntervalBuffer ib;
    for (int64_t i = 0; i < n; ++i) {
      float c = d(rng), r = point ? 0.0f : w(rng);
      ib.lo.push_back(c - r);
      ib.hi.push_back(c + r);
    }
    b.in.push_back(std::move(ib));
  }
  return b;
}

/// Points of the box: its two extreme corners, random vertices, random interiors.
std::vector<std::vector<std::vector<double>>> samples(const Box &b, std::mt19937_64 &rng) {
  std::vector<std::vector<std::vector<double>>> pts;
  std::uniform_real_distribution<double> t(0.0, 1.0);
  std::bernoulli_distribution coin(0.5);
  for (int s = 0; s < 24; ++s) {
    std::vector<std::vector<double>> x;
    for (const IntervalBuffer &ib : b.in) {
      std::vector<double> xi;
      for (size_t i = 0; i < ib.lo.size(); ++i) {
        double lo = ib.lo[i], hi = ib.hi[i];
        double v = s == 0 ? lo : s == 1 ? hi : s < 12 ? (coin(rng) ? lo : hi) : lo + t(rng) * (hi - lo);
        xi.push_back(static_cast<double>(static_cast<float>(v)));
      }
      x.push_back(std::move(xi));
    }
    pts.push_back(std::move(x));
  }
  return pts;
}

std::string show(const Graph &g) { return printGraph(g); }

/// The linear lower bounds a·x + o of y_j and of -y_j (rows C = [I; -I])
/// hold at every sample; on a point box they meet f(x). Returns false when
/// the rule declines this instance (a form CROWN does not bound, e.g. a
/// matmul with the weight on the left).
bool checkCrown(const Graph &g, const Box &box, std::mt19937_64 &rng, bool point) {
  const int64_t n = g.type(g.outputs[0]).numel(), m = g.type(g.inputs[0]).numel();
  std::vector<double> C(static_cast<size_t>(2 * n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) {
    C[j * n + j] = 1;
    C[(n + j) * n + j] = -1;
  }
  CrownOptions opts;
  opts.wantInputCoefs = true;
  auto r = crown(g, box.in[0].lo, box.in[0].hi, C, 2 * n, opts);
  if (!r) {
    EXPECT_NE(r.error().message().find("CROWN does not support"), std::string::npos)
        << r.error().str() << show(g);
    return false;
  }
  for (const auto &x : samples(box, rng)) {
    auto v64 = evaluate64(g, x, 1);
    if (!v64) {
      ADD_FAILURE() << v64.error().str();
      return true;
    }
    for (int64_t row = 0; row < 2 * n; ++row) {
      double lin = r->inputOffsets[row];
      for (int64_t k = 0; k < m; ++k)
        lin += static_cast<double>(r->inputCoefs[row * m + k]) * x[0][k];
      int64_t j = row % n;
      double y = (row < n ? 1 : -1) * (*v64)[0][j];
      double slack = 1e-12 * (1 + std::fabs(y)) + 1e-12 * std::fabs(lin);
      EXPECT_LE(lin, y + slack) << "CROWN row " << row << " at a sample" << show(g);
      if (point) {
        EXPECT_GE(lin, y - 1e-5 * (1 + std::fabs(y)))
            << "CROWN row " << row << " is loose on a point box" << show(g);
      }
      if (::testing::Test::HasFailure())
        return true;
    }
  }
  return true;
}

/// ir::inputGradient of c·f at a random point against central differences.
bool checkGradient(const Graph &g, std::mt19937_64 &rng) {
  const int64_t n = g.type(g.outputs[0]).numel(), m = g.type(g.inputs[0]).numel();
  std::uniform_real_distribution<double> d(-4.0, 4.0);
  std::vector<float> x(static_cast<size_t>(m));
  for (float &v : x)
    v = static_cast<float>(d(rng));
  std::vector<double> c(static_cast<size_t>(n));
  for (double &v : c)
    v = d(rng);
  auto grad = inputGradient(g, x, c);
  if (!grad) {
    EXPECT_NE(grad.error().message().find("the gradient"), std::string::npos)
        << grad.error().str() << show(g);
    return false;
  }
  auto f = [&](const std::vector<double> &xd) {
    auto y = evaluate64(g, {xd}, 1);
    double s = 0;
    for (int64_t j = 0; j < n; ++j)
      s += c[j] * (*y)[0][j];
    return s;
  };
  const double h = 1e-6;
  for (int64_t k = 0; k < m; ++k) {
    std::vector<double> xp(x.begin(), x.end()), xm(x.begin(), x.end());
    xp[k] += h;
    xm[k] -= h;
    double fd = (f(xp) - f(xm)) / (2 * h);
    EXPECT_NEAR((*grad)[k], fd, 1e-4 * (1 + std::fabs(fd))) << "d/dx_" << k << show(g);
  }
  return true;
}

// The rules every record must have (the CROWN and gradient rules are
// optional: null means the engines refuse the op).
TEST(OpRecord, EveryRecordHasItsRequiredRules) {
  for (int k = 0; k < kNumOpKinds; ++k) {
    const OpRecord &r = opRecord(static_cast<OpKind>(k));
    SCOPED_TRACE(std::string(mnemonic(static_cast<OpKind>(k))));
    EXPECT_NE(r.shape, nullptr);
    EXPECT_NE(r.eval, nullptr);
    EXPECT_NE(r.eval64, nullptr);
    EXPECT_NE(r.interval, nullptr);
    EXPECT_NE(r.instance, nullptr);
    if (r.tighten != CrownTighten::None)
      EXPECT_NE(r.crown, nullptr) << "a relaxed op without a CROWN rule";
  }
}

TEST(OpRecord, EveryKindHasInstances) {
  std::mt19937_64 rng(1);
  for (int k = 0; k < kNumOpKinds; ++k) {
    OpKind kind = static_cast<OpKind>(k);
    if (kind == OpKind::Const)
      continue;
    int made = 0;
    for (int i = 0; i < 20; ++i)
      made += !opRecord(kind).instance(rng).ops.empty();
    EXPECT_GT(made, 0) << mnemonic(kind) << ": the record makes no instances";
  }
}

TEST(OpRecord, EvaluationAndIntervalsOfRandomInstances) {
  std::mt19937_64 rng(2);
  for (int k = 0; k < kNumOpKinds; ++k) {
    OpKind kind = static_cast<OpKind>(k);
    SCOPED_TRACE(std::string(mnemonic(kind)));
    int checked = 0, crownChecked = 0, gradChecked = 0;
    for (int it = 0; it < kInstances; ++it) {
      Graph g = opRecord(kind).instance(rng);
      if (g.ops.empty())
        continue;
      ASSERT_TRUE(static_cast<bool>(verifyGraph(g))) << verifyGraph(g).error().str() << show(g);
      ValueId out = g.outputs[0];
      const int64_t n = g.type(out).numel();
      if (opRecord(kind).grad && g.inputs.size() == 1)
        gradChecked += checkGradient(g, rng);
      for (bool point : {false, true}) {
        Box box = randomBox(g, rng, point);
        auto bounds = ibp(g, box.in, 1);
        ASSERT_TRUE(static_cast<bool>(bounds)) << bounds.error().str() << show(g);
        const IntervalBuffer &y = (*bounds)[0];
        for (const auto &x : samples(box, rng)) {
          auto v64 = evaluate64(g, x, 1);
          std::vector<std::vector<float>> xf;
          for (const auto &xi : x)
            xf.emplace_back(xi.begin(), xi.end());
          auto v32 = evaluate(g, xf, 1);
          ASSERT_TRUE(v64 && v32);
          for (int64_t j = 0; j < n; ++j) {
            double v = (*v64)[0][j], f = (*v32)[0][j];
            // f64 evaluation errs by far less than this; the rules' own
            // rounding margins are tested in test/unit/codegen/RoundingTest.
            double slack = 1e-12 * (1 + std::fabs(v));
            ASSERT_LE(y.lo[j], v + slack) << "element " << j << show(g);
            ASSERT_GE(y.hi[j], v - slack) << "element " << j << show(g);
            ASSERT_NEAR(f, v, 1e-4 * (1 + std::fabs(v))) << "element " << j << show(g);
          }
        }
        if (opRecord(kind).crown && g.inputs.size() == 1)
          crownChecked += checkCrown(g, box, rng, point);
        if (::testing::Test::HasFailure())
          return;
        if (point)
          for (int64_t j = 0; j < n; ++j) {
            double mid = 0.5 * (static_cast<double>(y.lo[j]) + y.hi[j]);
            ASSERT_LE(static_cast<double>(y.hi[j]) - y.lo[j], 1e-5 * (1 + std::fabs(mid)))
                << "a point box's bounds are loose: element " << j << show(g);
          }
      }
      ++checked;
    }
    std::cout << mnemonic(kind) << ": " << checked << " instances checked, " << crownChecked
              << " boxes by CROWN, " << gradChecked << " gradients\n";
    if (kind != OpKind::Const)
      EXPECT_GT(checked, kInstances / 2);
    if (opRecord(kind).crown)
      EXPECT_GT(crownChecked, kInstances / 4) << "the CROWN rule is checked on too few instances";
    if (opRecord(kind).grad)
      EXPECT_GT(gradChecked, kInstances / 4) << "the gradient is checked on too few instances";
  }
}

} // namespace
} // namespace gma::ir

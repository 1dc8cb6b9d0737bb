//===- test/unit/codegen/StepRecordTest.cpp - Kernels of every op record --===//
//
// The kernel half of the generic op test (issue 11, Deliver 1; the IR half is
// test/unit/ir/OpRecordTest.cpp). For every op kind the kernels implement,
// random instances from its ir::OpRecord go through gamma's default pass
// pipeline and the JIT, and
//   - eval equals the reference interpreter on the original graph, bit for
//     bit (the kernels run the interpreter's operations in its order);
//   - ibp contains the float64 evaluation of the original graph at the box's
//     corners, random vertices and interior points, and is tight on a point
//     box;
//   - where the kernels have a crown kernel, its lower bounds of ±y_j hold at
//     the same points, and on a point box they meet the value.
// Instances the kernels refuse for a documented reason (E5005: a product of
// two activations, a transposed activation...) or that have several inputs
// are skipped; the test fails if a kind the kernels implement has too few
// compiled instances. A new step kind's record is tested here without a
// line of its own.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "codegen/KernelPlan.h"
#include "codegen/StepRecord.h"
#include "ir/Interpreter.h"
#include "ir/OpRecord.h"
#include "ir/Printer.h"
#include "passes/PassManager.h"
#include "runtime/VerifierLibrary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>

namespace gma::codegen {
namespace {

using ir::Graph;
using ir::OpKind;

constexpr int kInstances = 24;

TEST(StepRecord, EveryStepKindCanBeEmitted) {
  for (int k = 0; k < kNumStepKinds; ++k) {
    const StepRecord &r = stepRecord(static_cast<StepKind>(k));
    SCOPED_TRACE(r.name);
    EXPECT_EQ(static_cast<int>(r.kind), k);
    bool whole = r.eval && r.ibp, scalar = r.scalarEval && r.scalarInterval;
    EXPECT_TRUE(whole != scalar) << "a record has either whole-step or scalar emitters";
    if (r.relaxed())
      EXPECT_TRUE(r.crownRule && r.ruleTakesBounds) << "a relaxation needs its bounds";
  }
}

std::vector<float> point(std::mt19937_64 &rng, int64_t n) {
  std::uniform_real_distribution<float> d(-4.0f, 4.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = d(rng);
  return v;
}

/// Checks one compiled instance; `original` is the graph before the passes.
void checkInstance(const Graph &original, const gamma_kernel_info *info,
                   const float *const *weights, std::mt19937_64 &rng) {
  const std::string text = ir::printGraph(original);
  const int64_t in = info->input_size, out = info->output_size;
  runtime::Kernels kernels(info, weights);

  // eval == the interpreter, bit for bit, on a batch of 3.
  const int64_t batch = 3;
  std::vector<float> x = point(rng, batch * in), y(static_cast<size_t>(batch * out));
  kernels.eval(x.data(), y.data(), batch);
  auto ref = ir::evaluate(original, {x}, batch);
  ASSERT_TRUE(static_cast<bool>(ref)) << ref.error().str();
  for (int64_t i = 0; i < batch * out; ++i)
    ASSERT_EQ(std::memcmp(&y[i], &(*ref)[0][i], sizeof(float)), 0)
        << "eval element " << i << ": kernel " << y[i] << ", interpreter " << (*ref)[0][i]
        << "\n" << text;

  for (bool pointBox : {false, true}) {
    std::uniform_real_distribution<float> w(0.0f, 2.0f);
    std::vector<float> c = point(rng, in), lo(in), hi(in);
    for (int64_t i = 0; i < in; ++i) {
      float r = pointBox ? 0.0f : w(rng);
      lo[i] = c[i] - r;
      hi[i] = c[i] + r;
    }
    std::vector<float> ylo(out), yhi(out);
    kernels.ibp(lo.data(), hi.data(), ylo.data(), yhi.data(), 1);
    std::vector<float> crownLower;
    if (info->crown) {
      std::vector<double> C(static_cast<size_t>(2 * out * out), 0.0);
      for (int64_t j = 0; j < out; ++j) {
        C[j * out + j] = 1;
        C[(out + j) * out + j] = -1;
      }
      crownLower.resize(2 * out);
      ASSERT_TRUE(static_cast<bool>(
          kernels.crown(lo.data(), hi.data(), C.data(), 2 * out, crownLower.data(), nullptr, 1)));
    }
    std::bernoulli_distribution coin(0.5);
    std::uniform_real_distribution<double> t(0.0, 1.0);
    for (int s = 0; s < 16; ++s) {
      std::vector<double> p(in);
      for (int64_t i = 0; i < in; ++i) {
        double v = s == 0 ? lo[i] : s == 1 ? hi[i] : s < 8 ? (coin(rng) ? lo[i] : hi[i])
                                                          : lo[i] + t(rng) * (hi[i] - lo[i]);
        p[i] = static_cast<double>(static_cast<float>(v));
        p[i] = std::min<double>(std::max<double>(p[i], lo[i]), hi[i]);
      }
      auto v64 = ir::evaluate64(original, {p}, 1);
      ASSERT_TRUE(static_cast<bool>(v64));
      for (int64_t j = 0; j < out; ++j) {
        double v = (*v64)[0][j];
        // The f64 evaluation errs by far less than this slack; the kernels'
        // rounding margins are tested against exact values in RoundingTest.
        double slack = 1e-12 * (1 + std::fabs(v));
        ASSERT_LE(ylo[j], v + slack) << "ibp element " << j << "\n" << text;
        ASSERT_GE(yhi[j], v - slack) << "ibp element " << j << "\n" << text;
        if (info->crown) {
          ASSERT_LE(crownLower[j], v + slack) << "crown row " << j << "\n" << text;
          ASSERT_LE(crownLower[out + j], -v + slack) << "crown row -" << j << "\n" << text;
        }
      }
    }
    if (pointBox) {
      auto v64 = ir::evaluate64(original, {std::vector<double>(lo.begin(), lo.end())}, 1);
      for (int64_t j = 0; j < out; ++j) {
        double v = (*v64)[0][j], tol = 1e-5 * (1 + std::fabs(v));
        ASSERT_LE(static_cast<double>(yhi[j]) - ylo[j], tol) << "loose ibp " << j << "\n" << text;
        if (info->crown) {
          ASSERT_GE(crownLower[j], v - tol) << "loose crown row " << j << "\n" << text;
          ASSERT_GE(crownLower[out + j], -v - tol) << "loose crown row -" << j << "\n" << text;
        }
      }
    }
  }
}

TEST(StepRecord, KernelsOfRandomInstancesMatchTheInterpreter) {
  std::mt19937_64 rng(11);
  CodegenOptions copts;
  copts.optLevel = 1; // the same IR; -O1 keeps 200 compiles quick
  for (int k = 0; k < ir::kNumOpKinds; ++k) {
    OpKind kind = static_cast<OpKind>(k);
    if (!kernelsImplement(kind))
      continue;
    SCOPED_TRACE(std::string(ir::mnemonic(kind)));
    int compiled = 0, refused = 0, withCrown = 0;
    for (int it = 0; it < kInstances; ++it) {
      Graph original = ir::opRecord(kind).instance(rng);
      if (original.ops.empty() || original.inputs.size() != 1)
        continue;
      Graph g = original;
      ASSERT_TRUE(static_cast<bool>(passes::runDefaultPipeline(g)));
      auto jit = JitVerifier::compile(g, copts);
      if (!jit) {
        ASSERT_EQ(jit.error().code(), ErrorCode::KernelUnsupported)
            << jit.error().str() << "\n" << ir::printGraph(original);
        ++refused;
        continue;
      }
      ++compiled;
      withCrown += (*jit)->info()->crown != nullptr;
      checkInstance(original, (*jit)->info(), (*jit)->weights(), rng);
      if (::testing::Test::HasFailure())
        return;
    }
    std::cout << ir::mnemonic(kind) << ": " << compiled << " compiled (" << withCrown
              << " with crown kernels), " << refused << " refused (E5005)\n";
    EXPECT_GE(compiled, kInstances / 4) << "too few instances reach the kernels";
  }
}

} // namespace
} // namespace gma::codegen

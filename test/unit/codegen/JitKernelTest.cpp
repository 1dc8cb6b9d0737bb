//===- test/unit/codegen/JitKernelTest.cpp - JIT kernels vs the interpreter ===//
//
// Hand-built planned graphs compiled with the JIT. For batches 1, 3, 17, 64:
//   - eval agrees with ir::evaluate bit for bit;
//   - ibp agrees with ir::ibp (rel 1e-6: the kernels use the cheaper margin
//     colAbsSum·max|x| of docs/soundness.md and another summation order);
//   - every sampled point of the input box, evaluated exactly (long double),
//     lies inside the kernel's bounds.
// Unsupported ops and broken buffer plans give CodegenFailed errors.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "runtime/VerifierLibrary.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gma::test {
namespace {

using codegen::JitVerifier;

bool near(double got, double want, double rel, double scale) {
  if (std::isinf(want) || std::isinf(got))
    return got == want;
  return std::fabs(got - want) <= rel * (std::fabs(want) + scale);
}

/// Compiles `g`, then checks eval and ibp of random inputs and boxes against
/// the interpreter and against exact evaluation at sampled points.
void checkKernels(const Graph &g, uint32_t seed, float boxRadius = 0.1f) {
  auto jit = JitVerifier::compile(g);
  ASSERT_TRUE(jit) << jit.error().str();
  const gamma_kernel_info *info = (*jit)->info();
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->abi_version, static_cast<uint32_t>(GAMMA_KERNEL_ABI_VERSION));
  EXPECT_EQ(info->input_size, g.type(g.inputs[0]).numel());
  EXPECT_EQ(info->output_size, g.type(g.outputs[0]).numel());
  runtime::Kernels kernels(info, (*jit)->weights());
  const int64_t in = info->input_size, out = info->output_size;
  std::mt19937 rng(seed);

  for (int64_t batch : {1, 3, 17, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<float> x = randomVector(rng, batch * in);
    std::vector<float> y(static_cast<size_t>(batch * out), NAN);
    kernels.eval(x.data(), y.data(), batch);
    auto ref = ir::evaluate(g, {x}, batch);
    ASSERT_TRUE(ref) << ref.error().str();
    // Bit for bit, as AffineEmitter.cpp and docs/codegen.md claim: the same
    // f32 operations in the same order, libm's expf for sigmoid, no FMA
    // contraction on either side (gamma_ir: -ffp-contract=off).
    for (int64_t i = 0; i < batch * out; ++i)
      ASSERT_EQ(0, std::memcmp(&y[i], &(*ref)[0][i], sizeof(float)))
          << "eval element " << i << ": " << y[i] << " vs " << (*ref)[0][i];

    // Boxes around x; every fifth element degenerate (lo == hi).
    std::vector<float> xlo(x), xhi(x);
    std::uniform_real_distribution<float> rad(0.0f, boxRadius);
    for (int64_t i = 0; i < batch * in; ++i)
      if (i % 5 != 0) {
        xlo[i] -= rad(rng);
        xhi[i] += rad(rng);
      }
    std::vector<float> ylo(y.size(), NAN), yhi(y.size(), NAN);
    kernels.ibp(xlo.data(), xhi.data(), ylo.data(), yhi.data(), batch);
    auto refI = ir::ibp(g, {{xlo, xhi}}, batch);
    ASSERT_TRUE(refI) << refI.error().str();
    for (int64_t i = 0; i < batch * out; ++i) {
      double scale = std::fabs((*refI)[0].hi[i] - (*refI)[0].lo[i]) + 1e-6;
      ASSERT_TRUE(near(ylo[i], (*refI)[0].lo[i], 1e-6, scale))
          << "ibp lo " << i << ": " << ylo[i] << " vs " << (*refI)[0].lo[i];
      ASSERT_TRUE(near(yhi[i], (*refI)[0].hi[i], 1e-6, scale))
          << "ibp hi " << i << ": " << yhi[i] << " vs " << (*refI)[0].hi[i];
      ASSERT_LE(ylo[i], yhi[i]);
    }

    // Soundness: exact outputs of sampled points (and the box's lower and
    // upper corners) lie inside the bounds.
    for (int64_t b = 0; b < batch; ++b) {
      for (int trial = 0; trial < 12; ++trial) {
        std::vector<float> p(static_cast<size_t>(in));
        for (int64_t i = 0; i < in; ++i) {
          float lo = xlo[b * in + i], hi = xhi[b * in + i];
          p[i] = trial == 0   ? lo
                 : trial == 1 ? hi
                              : lo + (hi - lo) * std::uniform_real_distribution<float>(0, 1)(rng);
          p[i] = std::clamp(p[i], lo, hi);
        }
        std::vector<long double> exact = exactForward(g, p);
        for (int64_t j = 0; j < out; ++j) {
          ASSERT_LE(static_cast<long double>(ylo[b * out + j]), exact[j]) << "sample " << b;
          ASSERT_GE(static_cast<long double>(yhi[b * out + j]), exact[j]) << "sample " << b;
        }
      }
    }
  }
}

TEST(JitKernels, MlpWithViewsAndInPlaceRelu) {
  std::mt19937 rng(1);
  checkKernels(mlpWithViews(rng), 11);
}

// Normalisation-style ops with broadcast constants on either side, sigmoid,
// then an affine layer and a bias add into the output.
Graph elementwiseChain(std::mt19937 &rng) {
  GraphBuilder gb;
  ValueId x = gb.input({2, 3});
  ValueId c1 = gb.constant({3}, {0.5f, -1.0f, 2.0f});
  ValueId s1 = gb.op(OpKind::Sub, {x, c1}, {2, 3}, 0, 0);
  ValueId c2 = gb.constant({2, 1}, {2.0f, -4.0f});
  ValueId s2 = gb.op(OpKind::Div, {s1, c2}, {2, 3}, 0, 0); // in place
  ValueId c3 = gb.constant({}, {-1.5f});
  ValueId s3 = gb.op(OpKind::Mul, {c3, s2}, {2, 3}, 0, 6); // constant on the left
  ValueId s4 = gb.op(OpKind::Neg, {s3}, {2, 3}, 0, 6);      // in place
  ValueId c4 = gb.constant({2, 3}, randomVector(rng, 6));
  ValueId s5 = gb.op(OpKind::Sub, {c4, s4}, {2, 3}, 0, 0); // c - x
  ValueId s6 = gb.op(OpKind::Sigmoid, {s5}, {2, 3}, 0, 0);
  ValueId s7 = gb.op(OpKind::Reshape, {s6}, {6}, 0, 0);
  ValueId w = gb.constant({6, 4}, randomVector(rng, 24, 3.0f));
  ValueId b = gb.constant({4}, randomVector(rng, 4));
  ValueId s8 = gb.op(OpKind::Affine, {s7, w, b}, {4}, 0, 6);
  ValueId c5 = gb.constant({4}, randomVector(rng, 4));
  ValueId s9 = gb.op(OpKind::Add, {s8, c5}, {4}, 2, 0);
  gb.finish(s9, 12);
  return std::move(gb.g);
}

TEST(JitKernels, ConstantOperandsSigmoidAndDivision) {
  std::mt19937 rng(2);
  checkKernels(elementwiseChain(rng), 12, 0.5f);
}

// A constant that broadcasts over non-adjacent dims ([2,1,4] against
// [2,3,4]) is expanded; no buffer plan at all (the trivial plan is used).
TEST(JitKernels, NonContiguousBroadcastWithoutPlan) {
  std::mt19937 rng(3);
  GraphBuilder gb;
  ValueId x = gb.input({2, 3, 4});
  ValueId c = gb.constant({2, 1, 4}, randomVector(rng, 8, 2.0f));
  ValueId m = gb.op(OpKind::Mul, {x, c}, {2, 3, 4});
  ValueId d = gb.constant({3, 1}, {1.0f, -2.0f, 0.25f});
  ValueId s = gb.op(OpKind::Add, {m, d}, {2, 3, 4});
  ValueId r = gb.op(OpKind::Relu, {s}, {2, 3, 4});
  gb.finish(r, -1);
  checkKernels(gb.g, 13);
}

// Sum and difference of two activations, one in place.
TEST(JitKernels, TwoActivations) {
  std::mt19937 rng(4);
  GraphBuilder gb;
  ValueId x = gb.input({5});
  ValueId a = randomAffine(gb, rng, x, 5, 7, 1.0f, 1.0f, 0, 0);
  ValueId b = randomAffine(gb, rng, x, 5, 7, 1.0f, 1.0f, 0, 7);
  ValueId s = gb.op(OpKind::Add, {a, b}, {7}, 0, 0);
  ValueId d = gb.op(OpKind::Sub, {s, b}, {7}, 2, 0);
  gb.finish(d, 14);
  checkKernels(gb.g, 14);
}

// matmul with several rows per sample (x is [3, 4]).
TEST(JitKernels, MatMulRowsPerSample) {
  std::mt19937 rng(5);
  GraphBuilder gb;
  ValueId x = gb.input({3, 4});
  ValueId w = gb.constant({4, 6}, randomVector(rng, 24));
  ValueId m = gb.op(OpKind::MatMul, {x, w}, {3, 6}, 0, 0);
  ValueId r = gb.op(OpKind::Relu, {m}, {3, 6}, 2, 0);
  gb.finish(r, 18);
  checkKernels(gb.g, 15);
}

// Wide layers: N = 600 is two full 256-column chunks plus a remainder.
TEST(JitKernels, WideLayersUseColumnChunks) {
  std::mt19937 rng(6);
  GraphBuilder gb;
  ValueId x = gb.input({30});
  ValueId h = randomAffine(gb, rng, x, 30, 600, 0.2f, 1.0f, 0, 0);
  ValueId r = gb.op(OpKind::Relu, {h}, {600}, 0, 0);
  ValueId o = randomAffine(gb, rng, r, 600, 10, 0.05f, 1.0f, 2, 0);
  gb.finish(o, 600);
  checkKernels(gb.g, 16, 0.02f);
}

// ---------------------------------------------------------------------------
// Rejections.

Error compileError(const Graph &g) {
  auto jit = JitVerifier::compile(g);
  EXPECT_FALSE(jit);
  return jit ? Error(ErrorCode::CodegenFailed, "unexpectedly compiled") : jit.takeError();
}

TEST(JitKernels, RejectsProductOfActivations) {
  GraphBuilder gb;
  ValueId x = gb.input({4});
  ValueId r = gb.op(OpKind::Relu, {x}, {4});
  ValueId m = gb.op(OpKind::Mul, {x, r}, {4});
  gb.finish(m, -1);
  // A form the IR supports and the kernels do not: E5005, so that gamma
  // falls back to the interpreter.
  Error e = compileError(gb.g);
  EXPECT_EQ(e.code(), ErrorCode::KernelUnsupported);
  EXPECT_NE(e.message().find("mul of two activations"), std::string::npos) << e.str();
  EXPECT_EQ(e.location().opType, "mul");
}

TEST(JitKernels, TransposeOfActivationIsAGather) {
  // Index-map ops compile to one gather step (codegen/KernelPlan.cpp);
  // StepRecordTest checks random instances of each against the interpreter.
  GraphBuilder gb;
  ValueId x = gb.input({2, 3});
  ValueId t = gb.op(OpKind::Transpose, {x}, {3, 2}, -1, 0, {{"perm", Attribute::list({1, 0})}});
  gb.finish(t, -1);
  auto jit = JitVerifier::compile(gb.g);
  ASSERT_TRUE(jit) << jit.error().str();
  const gamma_kernel_info *info = (*jit)->info();
  std::vector<float> in = {1, 2, 3, 4, 5, 6}, out(6, 0.0f), scratch(64, 0.0f);
  info->eval((*jit)->weights(), in.data(), out.data(), 1, scratch.data());
  EXPECT_EQ(out, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(JitKernels, RejectsMatMulOfActivations) {
  GraphBuilder gb;
  ValueId x = gb.input({2, 2});
  ValueId m = gb.op(OpKind::MatMul, {x, x}, {2, 2});
  gb.finish(m, -1);
  EXPECT_EQ(compileError(gb.g).code(), ErrorCode::KernelUnsupported);
}

TEST(JitKernels, RejectsOverlappingPlan) {
  std::mt19937 rng(7);
  GraphBuilder gb;
  ValueId x = gb.input({4});
  ValueId a = gb.op(OpKind::Relu, {x}, {4}, 0, 0);
  ValueId b = gb.op(OpKind::Neg, {a}, {4}, 0, 2); // overlaps a's floats 2..3
  ValueId c = gb.op(OpKind::Relu, {b}, {4}, 2, 0);
  gb.finish(c, 6);
  Error e = compileError(gb.g);
  EXPECT_NE(e.message().find("partially overlap"), std::string::npos) << e.str();
}

TEST(JitKernels, RejectsAffineInPlace) {
  std::mt19937 rng(8);
  GraphBuilder gb;
  ValueId x = gb.input({4});
  ValueId a = gb.op(OpKind::Relu, {x}, {4}, 0, 0);
  ValueId b = randomAffine(gb, rng, a, 4, 4, 1.0f, 1.0f, 0, 0);
  gb.finish(b, 4);
  Error e = compileError(gb.g);
  EXPECT_NE(e.message().find("in place"), std::string::npos) << e.str();
}

TEST(JitKernels, RejectsBadPrefix) {
  std::mt19937 rng(9);
  codegen::CodegenOptions opts;
  opts.prefix = "9 bad";
  auto jit = JitVerifier::compile(mlpWithViews(rng), opts);
  ASSERT_FALSE(jit);
  EXPECT_EQ(jit.error().code(), ErrorCode::InvalidArgument);
}

} // namespace
} // namespace gma::test

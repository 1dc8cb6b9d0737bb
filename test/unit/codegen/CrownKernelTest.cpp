//===- test/unit/codegen/CrownKernelTest.cpp - crown and grad kernels -----===//
//
// The JIT-compiled crown and grad kernels against the reference in
// ir/Crown.h, on a hand-computed network, random ReLU and sigmoid MLPs (plain, with
// views and an in-place relu, with constants on both sides, a residual add,
// and a matmul with several rows per sample), for batches 1, 3, 17:
//   - crown lower bounds agree with ir::crown (rel 1e-5) and give the same
//     decisions (lower > 0);
//   - exact (long double) outputs of sampled points satisfy every bound;
//   - input coefficients agree with CrownOptions::wantInputCoefs;
//   - grad agrees with ir::inputGradient and with finite differences;
//   - an AOT library computes exactly what the JIT computes;
//   - on ACAS Xu (../shared, skipped when absent) with VNN-LIB property
//     boxes, kernel and ir::crown agree.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "frontend/onnx/OnnxImporter.h"
#include "frontend/vnnlib/VnnLib.h"
#include "ir/Crown.h"
#include "passes/PassManager.h"
#include "runtime/VerifierLibrary.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

namespace gma::test {
namespace {

namespace fs = std::filesystem;
using codegen::JitVerifier;

bool near(double got, double want, double rel) {
  if (std::isinf(want) || std::isinf(got))
    return got == want;
  return std::fabs(got - want) <= rel * (std::fabs(want) + 1.0);
}

/// f32 values between a and b (0: identical; infinities only equal themselves).
int64_t ulpDistance(float a, float b) {
  if (a == b)
    return 0;
  if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b))
    return std::numeric_limits<int64_t>::max();
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : static_cast<int64_t>(i);
  };
  return std::llabs(ordered(a) - ordered(b));
}

/// A random MLP (ReLU or sigmoid between the layers) without a buffer plan
/// (codegen plans it trivially).
Graph randomMlp(std::mt19937 &rng, const std::vector<int64_t> &widths,
                OpKind act = OpKind::Relu) {
  GraphBuilder gb;
  ValueId v = gb.input({widths[0]});
  for (size_t l = 1; l < widths.size(); ++l) {
    int64_t K = widths[l - 1], N = widths[l];
    float scale = 2.0f / std::sqrt(static_cast<float>(K));
    ValueId w = gb.constant({K, N}, randomVector(rng, K * N, scale));
    ValueId b = gb.constant({N}, randomVector(rng, N, 0.3f));
    v = gb.op(OpKind::Affine, {v, w, b}, {N});
    if (l + 1 < widths.size())
      v = gb.op(act, {v}, {N});
  }
  gb.finish(v, -1);
  return std::move(gb.g);
}

/// x[6] -> affine 10 -> relu r1 -> r1·c -> 0.5 - _ -> affine 10 -> relu r2
/// -> r2 + r1 -> _ / c' -> neg -> affine 3 (transposed W).
Graph mixedOps(std::mt19937 &rng) {
  GraphBuilder gb;
  ValueId x = gb.input({6});
  ValueId a1 = randomAffine(gb, rng, x, 6, 10, 1.0f, 0.3f);
  ValueId r1 = gb.op(OpKind::Relu, {a1}, {10});
  ValueId m = gb.op(OpKind::Mul, {r1, gb.constant({10}, randomVector(rng, 10, 2.0f))}, {10});
  ValueId s = gb.op(OpKind::Sub, {gb.constant({1}, {0.5f}), m}, {10});
  ValueId a2 = randomAffine(gb, rng, s, 10, 10, 0.6f, 0.3f);
  ValueId r2 = gb.op(OpKind::Relu, {a2}, {10});
  ValueId sum = gb.op(OpKind::Add, {r2, r1}, {10});
  std::vector<float> divisor = randomVector(rng, 10, 2.0f);
  for (float &d : divisor)
    d += d < 0 ? -0.5f : 0.5f;
  ValueId d = gb.op(OpKind::Div, {sum, gb.constant({10}, divisor)}, {10});
  ValueId n = gb.op(OpKind::Neg, {d}, {10});
  ValueId o = gb.op(OpKind::Affine,
                    {n, gb.constant({3, 10}, randomVector(rng, 30)),
                     gb.constant({3}, randomVector(rng, 3))},
                    {3}, -1, 0, {{"transposed", Attribute::scalar(1)}});
  gb.finish(o, -1);
  return std::move(gb.g);
}

/// x[2,4] -> matmul W[4,6] -> relu -> reshape [12] -> affine 3 (two rows per sample).
Graph matmulRows(std::mt19937 &rng) {
  GraphBuilder gb;
  ValueId x = gb.input({2, 4});
  ValueId mm = gb.op(OpKind::MatMul, {x, gb.constant({4, 6}, randomVector(rng, 24))}, {2, 6});
  ValueId r = gb.op(OpKind::Relu, {mm}, {2, 6});
  ValueId flat = gb.op(OpKind::Reshape, {r}, {12});
  ValueId o = randomAffine(gb, rng, flat, 12, 3);
  gb.finish(o, -1);
  return std::move(gb.g);
}

struct Boxes {
  std::vector<float> lo, hi;
};

Boxes randomBoxes(std::mt19937 &rng, int64_t batch, int64_t in, float radius) {
  Boxes b;
  b.lo = randomVector(rng, batch * in);
  b.hi = b.lo;
  std::uniform_real_distribution<float> rad(0.0f, radius);
  for (int64_t i = 0; i < batch * in; ++i) {
    b.lo[i] -= rad(rng);
    b.hi[i] += rad(rng);
  }
  return b;
}

/// Kernel crown vs ir::crown, coefficients, and sampled soundness.
void checkCrown(const Graph &g, uint32_t seed, float radius) {
  auto jit = JitVerifier::compile(g);
  ASSERT_TRUE(jit) << jit.error().str();
  const gamma_kernel_info *info = (*jit)->info();
  ASSERT_NE(info->crown, nullptr);
  ASSERT_NE(info->grad, nullptr);
  runtime::Kernels k(info, (*jit)->weights());
  const int64_t in = info->input_size, out = info->output_size;
  std::mt19937 rng(seed);
  int tighterThanIbp = 0;
  for (int64_t batch : {1, 3, 17}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const int64_t rows = 1 + batch % 4;
    std::vector<double> C(static_cast<size_t>(rows * out));
    for (double &c : C)
      c = std::uniform_real_distribution<double>(-1, 1)(rng);
    Boxes bx = randomBoxes(rng, batch, in, radius);
    std::vector<float> lower(batch * rows, NAN), coefs(batch * rows * (in + 1), NAN);
    Status st = k.crown(bx.lo.data(), bx.hi.data(), C.data(), rows, lower.data(), coefs.data(),
                        batch);
    ASSERT_TRUE(st) << st.error().str();
    // Without coefficients: the same bounds.
    std::vector<float> lower2(batch * rows, NAN);
    ASSERT_TRUE(k.crown(bx.lo.data(), bx.hi.data(), C.data(), rows, lower2.data(), nullptr, batch));
    EXPECT_EQ(0, std::memcmp(lower.data(), lower2.data(), lower.size() * sizeof(float)));
    // The interval bound of C·y, to check that CROWN is exercised.
    std::vector<float> ylo(batch * out), yhi(batch * out);
    k.ibp(bx.lo.data(), bx.hi.data(), ylo.data(), yhi.data(), batch);
    std::vector<double> ibpLower(batch * rows, 0.0);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out; ++j) {
          double cv = C[r * out + j];
          ibpLower[b * rows + r] += cv * (cv >= 0 ? ylo[b * out + j] : yhi[b * out + j]);
        }

    ir::CrownOptions opts;
    opts.wantInputCoefs = true;
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<float> lo(bx.lo.begin() + b * in, bx.lo.begin() + (b + 1) * in);
      std::vector<float> hi(bx.hi.begin() + b * in, bx.hi.begin() + (b + 1) * in);
      auto ref = ir::crown(g, lo, hi, C, rows, opts);
      ASSERT_TRUE(ref) << ref.error().str();
      for (int64_t r = 0; r < rows; ++r) {
        float got = lower[b * rows + r], want = ref->lower[r];
        EXPECT_TRUE(near(got, want, 1e-5)) << "box " << b << " row " << r << ": " << got
                                           << " vs ir::crown " << want;
        if (std::fabs(want) > 1e-4) {
          EXPECT_EQ(got > 0, want > 0) << "decision differs, box " << b << " row " << r;
        }
        if (got > ibpLower[b * rows + r] + 1e-6)
          ++tighterThanIbp;
        const float *lin = &coefs[(b * rows + r) * (in + 1)];
        for (int64_t j = 0; j < in; ++j)
          EXPECT_TRUE(near(lin[j], ref->inputCoefs[r * in + j], 1e-5))
              << "coef box " << b << " row " << r << " input " << j;
        EXPECT_TRUE(near(lin[in], ref->inputOffsets[r], 1e-5))
            << "offset box " << b << " row " << r << ": " << lin[in] << " vs "
            << ref->inputOffsets[r];
      }
      // Soundness: C·f(x) >= lower at sampled points and the corners.
      std::uniform_real_distribution<float> t(0, 1);
      for (int s = 0; s < 40; ++s) {
        std::vector<float> x(static_cast<size_t>(in));
        for (int64_t j = 0; j < in; ++j)
          x[j] = s == 0 ? lo[j] : s == 1 ? hi[j] : lo[j] + t(rng) * (hi[j] - lo[j]);
        std::vector<long double> y = exactForward(g, x);
        for (int64_t r = 0; r < rows; ++r) {
          long double v = 0;
          for (int64_t j = 0; j < out; ++j)
            v += static_cast<long double>(C[r * out + j]) * y[j];
          ASSERT_GE(v, static_cast<long double>(lower[b * rows + r]))
              << "unsound: box " << b << " row " << r << " sample " << s;
          // The linear bound holds at x too.
          const float *lin = &coefs[(b * rows + r) * (in + 1)];
          long double a = lin[in];
          for (int64_t j = 0; j < in; ++j)
            a += static_cast<long double>(lin[j]) * x[j];
          ASSERT_GE(v, a) << "unsound linear bound: box " << b << " row " << r << " sample " << s;
        }
      }
    }
  }
  EXPECT_GT(tighterThanIbp, 0) << "CROWN never improved on IBP: the test exercises nothing";
}

/// Kernel grad vs ir::inputGradient and finite differences of exactForward.
void checkGrad(const Graph &g, uint32_t seed) {
  auto jit = JitVerifier::compile(g);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels k((*jit)->info(), (*jit)->weights());
  const int64_t in = k.info().input_size, out = k.info().output_size;
  std::mt19937 rng(seed);
  std::vector<double> c(static_cast<size_t>(out));
  for (double &v : c)
    v = std::uniform_real_distribution<double>(-1, 1)(rng);
  int fdChecked = 0;
  for (int64_t batch : {1, 3, 17}) {
    std::vector<float> x = randomVector(rng, batch * in), grad(batch * in, NAN);
    ASSERT_TRUE(k.grad(x.data(), c.data(), grad.data(), batch));
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<float> xb(x.begin() + b * in, x.begin() + (b + 1) * in);
      auto ref = ir::inputGradient(g, xb, c);
      ASSERT_TRUE(ref) << ref.error().str();
      auto cy = [&](const std::vector<float> &p) {
        std::vector<long double> y = exactForward(g, p);
        long double v = 0;
        for (int64_t j = 0; j < out; ++j)
          v += static_cast<long double>(c[j]) * y[j];
        return v;
      };
      for (int64_t j = 0; j < in; ++j) {
        EXPECT_TRUE(near(grad[b * in + j], (*ref)[j], 1e-5))
            << "grad " << j << ": " << grad[b * in + j] << " vs " << (*ref)[j];
        // Central differences at two step sizes; compared only where they
        // agree (no ReLU kink within the step).
        auto fd = [&](float h) {
          std::vector<float> p = xb, m = xb;
          p[j] += h;
          m[j] -= h;
          return (cy(p) - cy(m)) / (static_cast<long double>(p[j]) - m[j]);
        };
        long double d1 = fd(0x1p-10f), d2 = fd(0x1p-11f);
        if (std::fabs(static_cast<double>(d1 - d2)) <= 1e-6 * (1 + std::fabs(static_cast<double>(d1)))) {
          ++fdChecked;
          EXPECT_TRUE(near(grad[b * in + j], static_cast<double>(d1), 1e-4))
              << "grad " << j << ": " << grad[b * in + j] << " vs finite difference " << static_cast<double>(d1);
        }
      }
    }
  }
  EXPECT_GT(fdChecked, 0);
}

// The 2-2-1 network y = relu(x1 + x2) + relu(x1 - x2) on [-1, 1]²:
//   pre-activation   bounds     relaxation (l = -2, u = 2)
//   z1 = x1 + x2     [-2, 2]    s = u/(u-l) = 1/2, t = -s·l = 1, a = [u > -l] = 0
//   z2 = x1 - x2     [-2, 2]    the same
// C = [1]:  λ = 1 >= 0 takes the lower lines a·z = 0, so y >= 0 (IBP: 0 too).
// C = [-1]: λ = -1 takes the upper lines: -y >= -(z1/2 + 1) - (z2/2 + 1)
//           = -x1 - 2 >= -3 (IBP gives only -4).
TEST(CrownKernel, HandComputedTwoNeurons) {
  GraphBuilder gb;
  ValueId x = gb.input({2});
  ValueId z = gb.op(OpKind::Affine,
                    {x, gb.constant({2, 2}, {1, 1, 1, -1}), gb.constant({2}, {0, 0})}, {2});
  ValueId h = gb.op(OpKind::Relu, {z}, {2});
  ValueId y = gb.op(OpKind::Affine, {h, gb.constant({2, 1}, {1, 1}), gb.constant({1}, {0})}, {1});
  gb.finish(y, -1);
  auto jit = JitVerifier::compile(gb.g);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels k((*jit)->info(), (*jit)->weights());
  std::vector<float> lo = {-1, -1}, hi = {1, 1}, lower(2), coefs(6);
  std::vector<double> C = {1, -1}; // two rows on the one output
  ASSERT_TRUE(k.crown(lo.data(), hi.data(), C.data(), 2, lower.data(), coefs.data(), 1));
  EXPECT_LE(lower[0], 0.0f);
  EXPECT_GE(lower[0], -1e-5f);
  EXPECT_LE(lower[1], -3.0f);
  EXPECT_GE(lower[1], -3.0f - 1e-5f);
  // Row 1's linear bound is -x1 - 2.
  EXPECT_NEAR(coefs[3], -1.0f, 1e-6);
  EXPECT_NEAR(coefs[4], 0.0f, 1e-6);
  EXPECT_LE(coefs[5], -2.0f);
  EXPECT_GE(coefs[5], -2.0f - 1e-5f);
}

TEST(CrownKernel, RandomMlps) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    Graph g = randomMlp(rng, {5, 20, 16, 12, 4});
    checkCrown(g, 100 + trial, trial % 2 ? 0.3f : 0.05f);
  }
}

TEST(CrownKernel, ViewsAndInPlaceRelu) {
  std::mt19937 rng(12);
  checkCrown(mlpWithViews(rng), 7, 0.2f);
}

TEST(CrownKernel, ConstantsResidualAndMatMulRows) {
  std::mt19937 rng(13);
  checkCrown(mixedOps(rng), 8, 0.1f);
  checkCrown(matmulRows(rng), 9, 0.2f);
}

TEST(CrownKernel, Gradient) {
  std::mt19937 rng(14);
  checkGrad(randomMlp(rng, {5, 20, 16, 4}), 1);
  checkGrad(mlpWithViews(rng), 2);
  checkGrad(mixedOps(rng), 3);
  checkGrad(matmulRows(rng), 4);
}

TEST(CrownKernel, RandomSigmoidMlps) {
  std::mt19937 rng(16);
  for (int trial = 0; trial < 3; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    Graph g = randomMlp(rng, {5, 20, 16, 12, 4}, OpKind::Sigmoid);
    // Radii from narrow (chords and midpoint tangents) to wide (bisected tangents).
    checkCrown(g, 200 + trial, trial == 0 ? 0.02f : trial == 1 ? 0.3f : 2.0f);
  }
  checkGrad(randomMlp(rng, {5, 20, 16, 4}, OpKind::Sigmoid), 5);
}

TEST(CrownKernel, AotLibraryMatchesJit) {
  std::mt19937 rng(15);
  Graph g = mixedOps(rng);
  std::string tmpl = (fs::temp_directory_path() / "gamma-crown-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  fs::path dir(tmpl);
  codegen::CodegenOptions opts;
  opts.prefix = "mixed";
  std::string so = (dir / "mixed_verifier.so").string();
  Status st = codegen::emitToFile(g, codegen::EmitKind::SharedLibrary, so, opts);
  ASSERT_TRUE(st) << st.error().str();
  auto lib = runtime::VerifierLibrary::open(so);
  ASSERT_TRUE(lib) << lib.error().str();
  auto jit = JitVerifier::compile(g, opts);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels aot((*lib)->info(), (*lib)->weights()), jk((*jit)->info(), (*jit)->weights());
  EXPECT_EQ((*lib)->info()->crown_scratch_floats_base, (*jit)->info()->crown_scratch_floats_base);
  const int64_t batch = 17, rows = 3, in = 6, out = 3;
  Boxes bx = randomBoxes(rng, batch, in, 0.2f);
  std::vector<double> C(rows * out);
  for (double &c : C)
    c = std::uniform_real_distribution<double>(-1, 1)(rng);
  std::vector<float> l1(batch * rows), l2(batch * rows), c1(batch * rows * (in + 1)), c2(c1.size());
  ASSERT_TRUE(aot.crown(bx.lo.data(), bx.hi.data(), C.data(), rows, l1.data(), c1.data(), batch));
  ASSERT_TRUE(jk.crown(bx.lo.data(), bx.hi.data(), C.data(), rows, l2.data(), c2.data(), batch));
  EXPECT_EQ(0, std::memcmp(l1.data(), l2.data(), l1.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)));
  std::vector<float> g1(batch * in), g2(batch * in);
  ASSERT_TRUE(aot.grad(bx.lo.data(), C.data(), g1.data(), batch));
  ASSERT_TRUE(jk.grad(bx.lo.data(), C.data(), g2.data(), batch));
  EXPECT_EQ(0, std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)));
  (*lib).reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(CrownKernel, AcasXuProperties) {
  fs::path root = fs::path(GAMMA_SHARED_DIR) / "benchmarks" / "vnncomp" / "acasxu";
  if (!fs::is_directory(root))
    GTEST_SKIP() << "no ACAS Xu networks at " << root;
  struct Case {
    const char *net;
    int prop;
  };
  for (Case cs : {Case{"1_1", 1}, Case{"1_1", 2}, Case{"2_3", 3}, Case{"4_5", 4}, Case{"1_9", 7}}) {
    SCOPED_TRACE(std::string(cs.net) + " prop " + std::to_string(cs.prop));
    auto g = frontend::importOnnxFile(
        (root / "onnx" / (std::string("ACASXU_run2a_") + cs.net + "_batch_2000.onnx")).string());
    ASSERT_TRUE(g) << g.error().str();
    ASSERT_TRUE(passes::runDefaultPipeline(*g));
    auto prop = frontend::parseVnnlibFile(
        (root / "vnnlib" / ("prop_" + std::to_string(cs.prop) + ".vnnlib")).string());
    ASSERT_TRUE(prop) << prop.error().str();
    auto jit = JitVerifier::compile(*g);
    ASSERT_TRUE(jit) << jit.error().str();
    runtime::Kernels k((*jit)->info(), (*jit)->weights());
    const int64_t in = k.info().input_size, out = k.info().output_size;
    for (const frontend::PropertyCase &pc : prop->cases) {
      std::vector<float> lo(in), hi(in);
      for (int64_t j = 0; j < in; ++j) {
        lo[j] = static_cast<float>(pc.lo[j]);
        hi[j] = static_cast<float>(pc.hi[j]);
      }
      // Also split the box in halves along input 0 for more unstable mixes.
      for (int part = 0; part < 3; ++part) {
        std::vector<float> blo = lo, bhi = hi;
        float mid = 0.5f * (lo[0] + hi[0]);
        if (part == 1)
          bhi[0] = mid;
        if (part == 2)
          blo[0] = mid;
        for (const frontend::OutputConjunction &conj : pc.disjuncts) {
          int64_t rows = static_cast<int64_t>(conj.C.size());
          std::vector<double> C;
          for (const auto &row : conj.C)
            C.insert(C.end(), row.begin(), row.end());
          ASSERT_EQ(static_cast<int64_t>(C.size()), rows * out);
          std::vector<float> lower(rows);
          ASSERT_TRUE(k.crown(blo.data(), bhi.data(), C.data(), rows, lower.data(), nullptr, 1));
          auto ref = ir::crown(*g, blo, bhi, C, rows);
          ASSERT_TRUE(ref) << ref.error().str();
          for (int64_t r = 0; r < rows; ++r) {
            // docs/codegen.md: on ACAS Xu kernel and oracle agree bit for bit
            // in f32; allow 2 ulps for summation order.
            EXPECT_LE(ulpDistance(lower[r], ref->lower[r]), 2)
                << "row " << r << ": " << lower[r] << " vs ir::crown " << ref->lower[r];
            if (std::fabs(ref->lower[r] - conj.d[r]) > 1e-4) {
              EXPECT_EQ(lower[r] > conj.d[r], ref->lower[r] > conj.d[r]);
            }
          }
        }
      }
    }
  }
}

} // namespace
} // namespace gma::test

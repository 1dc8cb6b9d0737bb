//===- test/unit/codegen/CrownArraysTest.cpp - crown's optional arrays ----===//
//
// The crown kernel's per-box bounds_in, bounds_out and lower_slopes
// (abi/KernelAbi.def, ABI 6) against ir::crown's boundsIn, bounds and
// lowerSlopes, on random ReLU, LeakyReLU and sigmoid MLPs and a network with
// a residual add, for batches of 1 and 3:
//   - the descriptor lists the relaxed values (sizes, offsets, kinds, names);
//   - bounds_out equals the reference's bounds and contains the exact value
//     of every sampled point;
//   - bounds_out fed back as bounds_in changes nothing (bit for bit);
//   - a split of an unstable neuron ([0, u] or [l, 0]) gives the reference's
//     bounds, which the sampled points of that phase satisfy, and which
//     differ from the unsplit ones somewhere (the split is not ignored);
//   - bounds that leave no point give lower = +inf and the linear bound
//     0·x + inf, as the reference's `empty`;
//   - lower slopes: the adaptive ones given explicitly change nothing (bit
//     for bit); random ones (outside [leak, 1] and NaN included, which clamp)
//     give the reference's bounds, hold on sampled points, and differ from
//     the default somewhere.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"
#include "ir/Crown.h"
#include "runtime/VerifierLibrary.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace gma::test {
namespace {

using codegen::JitVerifier;
using BoundsMap = std::map<ValueId, std::pair<std::vector<float>, std::vector<float>>>;

/// widths[0] inputs, then affine + `act` per hidden layer, affine out.
Graph mlp(std::mt19937 &rng, const std::vector<int64_t> &widths, OpKind act,
          double leak = 0.0) {
  GraphBuilder gb;
  ValueId v = gb.input({widths[0]});
  for (size_t l = 1; l < widths.size(); ++l) {
    v = randomAffine(gb, rng, v, widths[l - 1], widths[l],
                     2.0f / std::sqrt(static_cast<float>(widths[l - 1])), 0.3f);
    if (l + 1 < widths.size()) {
      std::vector<ValueId> operands = {v};
      if (act == OpKind::LeakyRelu)
        operands.push_back(gb.constant({1}, {static_cast<float>(leak)}));
      v = gb.op(act, operands, {widths[l]});
    }
  }
  gb.finish(v, -1);
  return std::move(gb.g);
}

/// x[5] -> affine 8 -> relu r1 -> affine 8 -> relu r2 -> r2 + r1 -> affine 3.
Graph residual(std::mt19937 &rng) {
  GraphBuilder gb;
  ValueId x = gb.input({5});
  ValueId r1 = gb.op(OpKind::Relu, {randomAffine(gb, rng, x, 5, 8, 1.0f, 0.3f)}, {8});
  ValueId r2 = gb.op(OpKind::Relu, {randomAffine(gb, rng, r1, 8, 8, 0.7f, 0.3f)}, {8});
  ValueId sum = gb.op(OpKind::Add, {r2, r1}, {8});
  gb.finish(randomAffine(gb, rng, sum, 8, 3), -1);
  return std::move(gb.g);
}

/// The graph value a relaxed entry names ("affine_3": the result of op 3).
ValueId relaxedValue(const Graph &g, const char *name) {
  std::string s(name);
  size_t us = s.rfind('_');
  return g.ops.at(std::stoul(s.substr(us + 1))).result;
}

bool sameFloats(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool near(float got, float want) {
  if (std::isinf(want) || std::isinf(got))
    return got == want;
  return std::fabs(got - want) <= 1e-5 * (std::fabs(want) + 1.0);
}

struct Fixture {
  Graph g;
  std::unique_ptr<JitVerifier> jit;
  const gamma_kernel_info *info = nullptr;
  int64_t in = 0, out = 0, rows = 2;
  std::vector<double> C;
  std::vector<ValueId> relaxed; // graph value of each relaxed entry

  explicit Fixture(Graph graph, std::mt19937 &rng) : g(std::move(graph)) {
    auto j = JitVerifier::compile(g);
    EXPECT_TRUE(j) << j.error().str();
    if (!j)
      return;
    jit = std::move(*j);
    info = jit->info();
    in = info->input_size;
    out = info->output_size;
    C.resize(static_cast<size_t>(rows * out));
    for (double &c : C)
      c = std::uniform_real_distribution<double>(-1, 1)(rng);
    for (int64_t j = 0; j < info->relaxed_count; ++j)
      relaxed.push_back(relaxedValue(g, info->relaxed_names[j]));
  }

  /// One box's kernel bounds with the optional arrays (per box).
  std::vector<float> crown(runtime::Kernels &k, const std::vector<float> &lo,
                           const std::vector<float> &hi, const runtime::CrownArrays &a,
                           std::vector<float> *coefs = nullptr) {
    std::vector<float> lower(rows, NAN);
    Status st = k.crown(lo.data(), hi.data(), C.data(), rows, lower.data(),
                        coefs ? coefs->data() : nullptr, 1, a);
    EXPECT_TRUE(st) << st.error().str();
    return lower;
  }

  /// ir::crown over the box with a per-box bounds_in array, and what the
  /// kernel computes with it (coefficients into `coefs`).
  std::pair<ir::CrownResult, std::vector<float>> bothWith(runtime::Kernels &k,
                                                          const std::vector<float> &lo,
                                                          const std::vector<float> &hi,
                                                          const std::vector<float> &bin,
                                                          std::vector<float> &coefs) const {
    ir::CrownOptions o;
    o.boundsIn = toMap(bin);
    auto ref = ir::crown(g, lo, hi, C, rows, o);
    EXPECT_TRUE(ref) << ref.error().str();
    std::vector<float> lower(rows, NAN);
    Status st = k.crown(lo.data(), hi.data(), C.data(), rows, lower.data(), coefs.data(), 1,
                        {bin.data(), nullptr, nullptr});
    EXPECT_TRUE(st) << st.error().str();
    return {ref ? std::move(*ref) : ir::CrownResult{}, lower};
  }

  /// Per-box bounds array <-> the reference's map.
  BoundsMap toMap(const std::vector<float> &arr) const {
    BoundsMap m;
    for (size_t j = 0; j < relaxed.size(); ++j) {
      const int64_t n = info->relaxed_sizes[j], at = 2 * info->relaxed_offsets[j];
      m[relaxed[j]] = {std::vector<float>(arr.begin() + at, arr.begin() + at + n),
                       std::vector<float>(arr.begin() + at + n, arr.begin() + at + 2 * n)};
    }
    return m;
  }

  /// Sampled points of the box (corners half of the time) with their exact
  /// values; `keep` filters them by those values.
  template <typename Keep, typename Check>
  int samples(std::mt19937 &rng, const std::vector<float> &lo, const std::vector<float> &hi,
              int count, Keep keep, Check check) const {
    int kept = 0;
    for (int s = 0; s < count; ++s) {
      std::vector<float> x(in);
      for (int64_t i = 0; i < in; ++i) {
        double t = std::uniform_real_distribution<double>(0, 1)(rng);
        if (s % 2)
          t = t < 0.5 ? 0 : 1;
        x[i] = static_cast<float>(lo[i] + t * (hi[i] - lo[i]));
        x[i] = std::min(std::max(x[i], lo[i]), hi[i]);
      }
      auto vals = exactValues(g, x);
      if (!keep(vals))
        continue;
      ++kept;
      check(vals);
    }
    return kept;
  }

  /// C·f(x) for row r, exact values of a point.
  long double spec(const std::vector<std::vector<long double>> &vals, int64_t r) const {
    long double y = 0;
    for (int64_t j = 0; j < out; ++j)
      y += static_cast<long double>(C[r * out + j]) * vals[g.outputs[0]][j];
    return y;
  }
};

TEST(CrownArrays, DescriptorListsTheRelaxedValues) {
  std::mt19937 rng(1);
  Fixture f(mlp(rng, {4, 8, 6, 3}, OpKind::Relu), rng);
  ASSERT_NE(f.info, nullptr);
  ASSERT_EQ(f.info->relaxed_count, 2);
  EXPECT_EQ(f.info->relaxed_sizes[0], 8);
  EXPECT_EQ(f.info->relaxed_sizes[1], 6);
  EXPECT_EQ(f.info->relaxed_offsets[0], 0);
  EXPECT_EQ(f.info->relaxed_offsets[1], 8);
  EXPECT_EQ(f.info->relaxed_floats, 14);
  for (int j = 0; j < 2; ++j) {
    EXPECT_EQ(f.info->relaxed_kinds[j], GAMMA_RELAXED_PIECEWISE);
    EXPECT_EQ(std::string(f.info->relaxed_names[j]).rfind("affine_", 0), 0u)
        << f.info->relaxed_names[j];
    EXPECT_EQ(f.g.ops[f.g.values[f.relaxed[j]].def].kind, OpKind::Affine);
  }
  Fixture s(mlp(rng, {3, 5, 2}, OpKind::Sigmoid), rng);
  ASSERT_NE(s.info, nullptr);
  ASSERT_EQ(s.info->relaxed_count, 1);
  EXPECT_EQ(s.info->relaxed_kinds[0], GAMMA_RELAXED_SMOOTH);
  // A ReLU of the input has no intermediate bounds: nothing to list.
  GraphBuilder gb;
  ValueId x = gb.input({4});
  ValueId r = gb.op(OpKind::Relu, {x}, {4});
  gb.finish(randomAffine(gb, rng, r, 4, 2), -1);
  Fixture t(std::move(gb.g), rng);
  ASSERT_NE(t.info, nullptr);
  EXPECT_EQ(t.info->relaxed_count, 0);
  EXPECT_EQ(t.info->relaxed_floats, 0);
}

/// Every check of the file comment on one graph.
void checkArrays(Graph graph, uint32_t seed, float radius, double leak = 0.0) {
  std::mt19937 rng(seed);
  Fixture f(std::move(graph), rng);
  ASSERT_NE(f.info, nullptr);
  ASSERT_NE(f.info->crown, nullptr);
  ASSERT_GT(f.info->relaxed_count, 0);
  runtime::Kernels k(f.info, f.jit->weights());
  const int64_t R = f.info->relaxed_floats;
  int splitsChanged = 0, slopesChanged = 0, splitSamples = 0;
  for (int trial = 0; trial < 12; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::vector<float> lo = randomVector(rng, f.in), hi = lo;
    for (int64_t i = 0; i < f.in; ++i) {
      float r = std::uniform_real_distribution<float>(0.05f, radius)(rng);
      lo[i] -= r;
      hi[i] += r;
    }
    // bounds_out against the reference and the samples.
    std::vector<float> bout(2 * R, NAN);
    std::vector<float> plain = f.crown(k, lo, hi, {nullptr, bout.data(), nullptr});
    EXPECT_TRUE(sameFloats(plain, f.crown(k, lo, hi, {})));
    ir::CrownOptions ro;
    ro.wantBounds = true;
    auto ref = ir::crown(f.g, lo, hi, f.C, f.rows, ro);
    ASSERT_TRUE(ref) << ref.error().str();
    BoundsMap used = f.toMap(bout);
    for (ValueId v : f.relaxed) {
      const auto &[rl, rh] = ref->bounds.at(v);
      for (size_t i = 0; i < rl.size(); ++i) {
        EXPECT_TRUE(near(used[v].first[i], rl[i])) << used[v].first[i] << " vs " << rl[i];
        EXPECT_TRUE(near(used[v].second[i], rh[i])) << used[v].second[i] << " vs " << rh[i];
      }
    }
    f.samples(rng, lo, hi, 40, [](auto &) { return true; }, [&](const auto &vals) {
      for (ValueId v : f.relaxed)
        for (size_t i = 0; i < used[v].first.size(); ++i) {
          EXPECT_LE(used[v].first[i], vals[v][i]);
          EXPECT_GE(used[v].second[i], vals[v][i]);
        }
      for (int64_t r = 0; r < f.rows; ++r)
        EXPECT_LE(plain[r], f.spec(vals, r));
    });

    // Fed back: nothing changes.
    std::vector<float> bout2(2 * R, NAN);
    EXPECT_TRUE(sameFloats(plain, f.crown(k, lo, hi, {bout.data(), bout2.data(), nullptr})));
    EXPECT_TRUE(sameFloats(bout, bout2));

    // A split of an unstable piecewise neuron, each phase.
    for (size_t j = 0; j < f.relaxed.size(); ++j) {
      if (!(f.info->relaxed_kinds[j] & GAMMA_RELAXED_PIECEWISE))
        continue;
      const ValueId v = f.relaxed[j];
      const int64_t n = f.info->relaxed_sizes[j], at = 2 * f.info->relaxed_offsets[j];
      int64_t neuron = -1;
      for (int64_t i = 0; i < n && neuron < 0; ++i)
        if (bout[at + i] < 0 && bout[at + n + i] > 0)
          neuron = i;
      if (neuron < 0)
        continue;
      for (int phase = 0; phase < 2; ++phase) {
        std::vector<float> bin = bout;
        (phase ? bin[at + neuron] : bin[at + n + neuron]) = 0.0f; // active: l = 0
        std::vector<float> coefs(f.rows * (f.in + 1));
        auto [sref, got] = f.bothWith(k, lo, hi, bin, coefs);
        ASSERT_EQ(sref.lower.size(), static_cast<size_t>(f.rows));
        EXPECT_FALSE(sref.empty);
        for (int64_t r = 0; r < f.rows; ++r) {
          EXPECT_TRUE(near(got[r], sref.lower[r])) << got[r] << " vs " << sref.lower[r];
          if (got[r] != plain[r])
            ++splitsChanged;
        }
        splitSamples += f.samples(
            rng, lo, hi, 40,
            [&](const auto &vals) { return phase ? vals[v][neuron] >= 0 : vals[v][neuron] <= 0; },
            [&](const auto &vals) {
              for (int64_t r = 0; r < f.rows; ++r) {
                EXPECT_LE(got[r], f.spec(vals, r));
                long double lin = coefs[r * (f.in + 1) + f.in];
                std::vector<long double> x = vals[f.g.inputs[0]];
                for (int64_t i = 0; i < f.in; ++i)
                  lin += static_cast<long double>(coefs[r * (f.in + 1) + i]) * x[i];
                EXPECT_LE(lin, f.spec(vals, r));
              }
            });
      }
      // Both phases' bounds excluded: no point left.
      std::vector<float> bin = bout;
      bin[at + neuron] = bout[at + n + neuron] + 1.0f;
      bin[at + n + neuron] = bout[at + n + neuron] + 2.0f;
      std::vector<float> coefs(f.rows * (f.in + 1), NAN);
      auto [eref, got] = f.bothWith(k, lo, hi, bin, coefs);
      ASSERT_EQ(eref.lower.size(), static_cast<size_t>(f.rows));
      EXPECT_TRUE(eref.empty);
      for (int64_t r = 0; r < f.rows; ++r) {
        EXPECT_EQ(got[r], std::numeric_limits<float>::infinity());
        EXPECT_EQ(eref.lower[r], std::numeric_limits<float>::infinity());
        for (int64_t i = 0; i < f.in; ++i)
          EXPECT_EQ(coefs[r * (f.in + 1) + i], 0.0f);
        EXPECT_EQ(coefs[r * (f.in + 1) + f.in], std::numeric_limits<float>::infinity());
      }
      break;
    }

    // Lower slopes: the adaptive ones explicitly, then random ones.
    std::vector<float> adaptive(R, 0.5f), random(R);
    for (size_t j = 0; j < f.relaxed.size(); ++j) {
      const int64_t n = f.info->relaxed_sizes[j], off = f.info->relaxed_offsets[j];
      for (int64_t i = 0; i < n; ++i) {
        float l = bout[2 * off + i], u = bout[2 * off + n + i];
        adaptive[off + i] = u > -l ? 1.0f : static_cast<float>(leak);
      }
    }
    EXPECT_TRUE(sameFloats(plain, f.crown(k, lo, hi, {nullptr, nullptr, adaptive.data()})));
    for (int64_t i = 0; i < R; ++i)
      random[i] = i % 7 == 3 ? NAN : std::uniform_real_distribution<float>(-0.2f, 1.2f)(rng);
    std::vector<float> got = f.crown(k, lo, hi, {nullptr, nullptr, random.data()});
    ir::CrownOptions ao;
    for (size_t j = 0; j < f.relaxed.size(); ++j) {
      const int64_t n = f.info->relaxed_sizes[j], off = f.info->relaxed_offsets[j];
      ao.lowerSlopes[f.relaxed[j]] =
          std::vector<float>(random.begin() + off, random.begin() + off + n);
    }
    auto aref = ir::crown(f.g, lo, hi, f.C, f.rows, ao);
    ASSERT_TRUE(aref) << aref.error().str();
    for (int64_t r = 0; r < f.rows; ++r) {
      EXPECT_TRUE(near(got[r], aref->lower[r])) << got[r] << " vs " << aref->lower[r];
      if (got[r] != plain[r])
        ++slopesChanged;
    }
    f.samples(rng, lo, hi, 40, [](auto &) { return true; }, [&](const auto &vals) {
      for (int64_t r = 0; r < f.rows; ++r)
        EXPECT_LE(got[r], f.spec(vals, r));
    });
  }
  // The checks above saw arrays that matter.
  EXPECT_GT(splitsChanged, 0);
  EXPECT_GT(splitSamples, 0);
  if (f.info->relaxed_kinds[0] & GAMMA_RELAXED_PIECEWISE) {
    EXPECT_GT(slopesChanged, 0);
  }
}

TEST(CrownArrays, ReluMlp) {
  std::mt19937 rng(2);
  checkArrays(mlp(rng, {4, 10, 8, 3}, OpKind::Relu), 2, 1.0f);
}

TEST(CrownArrays, LeakyReluMlp) {
  std::mt19937 rng(3);
  checkArrays(mlp(rng, {4, 9, 7, 3}, OpKind::LeakyRelu, 0.1), 3, 1.0f, 0.1);
}

TEST(CrownArrays, Residual) {
  std::mt19937 rng(4);
  checkArrays(residual(rng), 4, 0.8f);
}

TEST(CrownArrays, SigmoidBoundsInAndOut) {
  // Sigmoid inputs: bounds in and out (no slopes, no splits at 0).
  std::mt19937 rng(5);
  Fixture f(mlp(rng, {3, 6, 2}, OpKind::Sigmoid), rng);
  ASSERT_NE(f.info, nullptr);
  runtime::Kernels k(f.info, f.jit->weights());
  const int64_t R = f.info->relaxed_floats;
  std::vector<float> lo = randomVector(rng, 3), hi = lo;
  for (float &h : hi)
    h += 1.5f;
  std::vector<float> bout(2 * R);
  std::vector<float> plain = f.crown(k, lo, hi, {nullptr, bout.data(), nullptr});
  // Halve two neurons' intervals from above: the reference agrees, the
  // points whose values stay inside satisfy the bounds.
  std::vector<float> bin = bout;
  for (int64_t i = 0; i < 2; ++i)
    bin[R + i] = 0.5f * (bout[i] + bout[R + i]);
  std::vector<float> coefs(f.rows * (f.in + 1));
  auto [ref, got] = f.bothWith(k, lo, hi, bin, coefs);
  ASSERT_EQ(ref.lower.size(), static_cast<size_t>(f.rows));
  int changed = 0;
  for (int64_t r = 0; r < f.rows; ++r) {
    EXPECT_TRUE(near(got[r], ref.lower[r])) << got[r] << " vs " << ref.lower[r];
    changed += got[r] != plain[r];
  }
  EXPECT_GT(changed, 0);
  const ValueId v = f.relaxed[0];
  int kept = f.samples(
      rng, lo, hi, 400,
      [&](const auto &vals) {
        for (int64_t i = 0; i < R; ++i)
          if (vals[v][i] > bin[R + i])
            return false;
        return true;
      },
      [&](const auto &vals) {
        for (int64_t r = 0; r < f.rows; ++r)
          EXPECT_LE(got[r], f.spec(vals, r));
      });
  EXPECT_GT(kept, 0);
}

} // namespace
} // namespace gma::test

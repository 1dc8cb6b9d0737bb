//===- test/e2e/ReferenceTest.cpp - VNN-COMP networks vs. reference bounds ===//
//
// On every ACAS Xu, mnist_fc and eran network and property with a
// reference file in ../shared/reference/lirpa (auto_LiRPA, float64): gamma's
// JIT IBP bounds
//   * contain the exact reference bounds (soundness: never narrower beyond the
//     reference's own 1e-9 accuracy),
//   * equal them to 1e-5 relative,
//   * agree with the IR interpreter on the unoptimised graph to 1e-5, and the
//     AOT library (gammac's .so, loaded with dlopen) agrees with the JIT bit for bit,
// the compiled `eval` matches the reference output at the box centre, every
// sampled concrete output lies inside the bounds, and ir::crown with
// auto_LiRPA's intermediate-bound policy equals the reference CROWN to 1e-4
// (ReLU networks) or ir::crown is at least as tight (sigmoid networks, whose
// relaxation has free tangent points).
//
//===----------------------------------------------------------------------===//
#include "test/e2e/E2eSupport.h"

#include "frontend/vnnlib/VnnLib.h"
#include "ir/Crown.h"
#include "ir/Interpreter.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace gma;
using namespace gma::e2e;

namespace {

struct RefCase {
  std::string category, net, prop;
};

std::vector<RefCase> referenceCases(const std::string &category) {
  std::vector<RefCase> cases;
  fs::path dir = fs::path(sharedDir()) / "reference" / "lirpa" / category;
  if (!fs::exists(dir))
    return cases;
  for (const auto &e : fs::directory_iterator(dir)) {
    std::string stem = e.path().stem().string();
    size_t sep = stem.rfind("__"); // network names may contain "__"
    if (e.path().extension() != ".json" || sep == std::string::npos)
      continue;
    cases.push_back({category, stem.substr(0, sep), stem.substr(sep + 2)});
  }
  std::sort(cases.begin(), cases.end(), [](const RefCase &a, const RefCase &b) {
    return std::tie(a.net, a.prop) < std::tie(b.net, b.prop);
  });
  return cases;
}

/// The property's file under <category>/vnnlib, possibly in a subfolder (eran).
fs::path propertyFile(const fs::path &bench, const std::string &prop) {
  std::string name = prop + ".vnnlib";
  for (const auto &e : fs::recursive_directory_iterator(bench / "vnnlib"))
    if (e.path().filename() == name)
      return e.path();
  return bench / "vnnlib" / name; // parsing reports the missing file
}

void checkCategory(const std::string &category) {
  if (!haveShared())
    GTEST_SKIP() << "../shared is absent: skipping the " << category << " reference bounds";
  auto cases = referenceCases(category);
  ASSERT_FALSE(cases.empty());
  fs::path bench = fs::path(sharedDir()) / "benchmarks" / "vnncomp" / category;
  std::map<std::string, std::unique_ptr<CompiledModel>> models;
  std::map<std::string, std::unique_ptr<runtime::VerifierLibrary>> libraries;
  double worstRef = 0, worstInterp = 0, worstCrown = 0, widthSum = 0, refWidth = 0;
  int crownMatches = 0, yardstickPairs = 0, looserBounds = 0;
  int checked = 0;
  std::mt19937 rng(2026);
  for (const RefCase &c : cases) {
    SCOPED_TRACE(c.net + " " + c.prop);
    auto &m = models[c.net];
    auto &lib = libraries[c.net];
    if (!m) {
      m = compileModel((bench / "onnx" / (c.net + ".onnx")).string());
      ASSERT_TRUE(m);
      // The same kernels ahead of time: a shared library loaded with dlopen.
      fs::path so = fs::path(GAMMA_BINARY_DIR) / "test" / "e2e" / "aot" / (c.net + ".so");
      fs::create_directories(so.parent_path());
      Status st = codegen::emitToFile(m->optimized, codegen::EmitKind::SharedLibrary, so.string());
      ASSERT_TRUE(static_cast<bool>(st)) << st.error().str();
      auto loaded = runtime::VerifierLibrary::open(so.string());
      ASSERT_TRUE(static_cast<bool>(loaded)) << loaded.error().str();
      lib = std::move(*loaded);
    }
    auto prop = frontend::parseVnnlibFile(propertyFile(bench, c.prop).string());
    ASSERT_TRUE(static_cast<bool>(prop)) << prop.error().str();
    ASSERT_EQ(prop->cases.size(), 1u);
    std::ifstream in(fs::path(sharedDir()) / "reference" / "lirpa" / category /
                     (c.net + "__" + c.prop + ".json"));
    nlohmann::json ref = nlohmann::json::parse(in);
    auto refLo = ref["bounds"]["IBP"]["lower"].get<std::vector<double>>();
    auto refHi = ref["bounds"]["IBP"]["upper"].get<std::vector<double>>();
    auto refCenter = ref["output_at_center"].get<std::vector<double>>();

    std::vector<float> lo, hi;
    boxToF32(prop->cases[0].lo, prop->cases[0].hi, lo, hi);
    bool hasSigmoid = std::any_of(m->optimized.ops.begin(), m->optimized.ops.end(),
                                  [](const ir::Op &op) { return op.kind == ir::OpKind::Sigmoid; });
    runtime::Kernels k(m->jit->info(), m->jit->weights());
    std::vector<float> ylo(m->outSize), yhi(m->outSize);
    k.ibp(lo.data(), hi.data(), ylo.data(), yhi.data(), 1);
    {
      runtime::Kernels aot(lib->info(), lib->weights());
      std::vector<float> alo(m->outSize), ahi(m->outSize);
      aot.ibp(lo.data(), hi.data(), alo.data(), ahi.data(), 1);
      EXPECT_EQ(alo, ylo) << "AOT and JIT kernels differ";
      EXPECT_EQ(ahi, yhi) << "AOT and JIT kernels differ";
    }

    for (int64_t j = 0; j < m->outSize; ++j) {
      double slack = 1e-9 * std::max(1.0, std::fabs(refLo[j]));
      EXPECT_LE(ylo[j], refLo[j] + slack) << "lower bound " << j << " is narrower than exact";
      slack = 1e-9 * std::max(1.0, std::fabs(refHi[j]));
      EXPECT_GE(yhi[j], refHi[j] - slack) << "upper bound " << j << " is narrower than exact";
    }
    // Sound f32 IBP is wider than exact by its rounding margins (γ_n·Σ|w·x|
    // per affine layer). Behind sigmoids no input of a layer is 0, so the
    // margins are whole and add up to about 1e-4 over eran's 6×200 network.
    const double ibpTol = hasSigmoid ? 2.5e-4 : 1e-5;
    double dev = std::max(maxRelDev(ylo, refLo), maxRelDev(yhi, refHi));
    EXPECT_LE(dev, ibpTol);
    worstRef = std::max(worstRef, dev);

    auto interp = ir::ibp(m->original, {{lo, hi}}, 1);
    ASSERT_TRUE(static_cast<bool>(interp)) << interp.error().str();
    double idev = std::max(maxRelDev(ylo, (*interp)[0].lo), maxRelDev(yhi, (*interp)[0].hi));
    EXPECT_LE(idev, ibpTol);
    worstInterp = std::max(worstInterp, idev);

    // The centre of the box as auto_LiRPA took it: (lo + hi) / 2 of the f64 box.
    std::vector<float> center(m->inSize), y(m->outSize);
    for (int64_t i = 0; i < m->inSize; ++i)
      center[i] = static_cast<float>((prop->cases[0].lo[i] + prop->cases[0].hi[i]) / 2);
    k.eval(center.data(), y.data(), 1);
    EXPECT_LE(maxRelDev(y, refCenter), 1e-4);

    // CROWN (the reference implementation in ir/Crown) against auto_LiRPA's CROWN.
    // gamma's CROWN (intermediate bounds intersected with intervals) must be
    // sound and inside IBP; the auto_LiRPA-compatible variant (its
    // intermediate-bound policy) must equal the reference to 1e-4 relative.
    auto cr = ir::crown(m->optimized, lo, hi);
    ASSERT_TRUE(static_cast<bool>(cr)) << cr.error().str();
    ir::CrownOptions lirpa;
    lirpa.intersectIntermediate = false;
    lirpa.parallelFinal = false;
    auto crl = ir::crown(m->optimized, lo, hi, {}, 0, lirpa);
    ASSERT_TRUE(static_cast<bool>(crl)) << crl.error().str();
    auto crLo = ref["bounds"]["CROWN"]["lower"].get<std::vector<double>>();
    auto crHi = ref["bounds"]["CROWN"]["upper"].get<std::vector<double>>();
    // gamma's CROWN is intersected with IBP; so is the yardstick.
    for (int64_t j = 0; j < m->outSize; ++j) {
      crLo[j] = std::max(crLo[j], refLo[j]);
      crHi[j] = std::min(crHi[j], refHi[j]);
      // Never looser than IBP (up to the ulps by which the interpreter's and
      // the kernels' summation orders differ).
      double tolLo = 1e-6 * std::max(1.0f, std::fabs(ylo[j]));
      double tolHi = 1e-6 * std::max(1.0f, std::fabs(yhi[j]));
      EXPECT_GE(cr->lower[j], ylo[j] - tolLo);
      EXPECT_LE(cr->upper[j], yhi[j] + tolHi);
      EXPECT_GE(crl->lower[j], ylo[j] - tolLo);
      EXPECT_LE(crl->upper[j], yhi[j] + tolHi);
    }
    if (hasSigmoid) {
      // The sigmoid relaxation's tangent points are a free choice (auto_LiRPA
      // reads them from a 0.01 grid, abi/ScalarRelax.c bisects) and neither
      // choice dominates, so the reference is a yardstick: the outputs' total
      // width is at most the reference's (within 0.2%); single bounds may be
      // looser (counted and printed).
      double width = 0, ref = 0;
      for (int64_t j = 0; j < m->outSize; ++j) {
        width += cr->upper[j] - cr->lower[j];
        ref += crHi[j] - crLo[j];
        looserBounds += cr->lower[j] < crLo[j] - 1e-6 * std::max(1.0, std::fabs(crLo[j]));
        looserBounds += cr->upper[j] > crHi[j] + 1e-6 * std::max(1.0, std::fabs(crHi[j]));
      }
      EXPECT_LE(width, 1.002 * ref) << "CROWN is looser than auto_LiRPA's in total";
      widthSum += width;
      refWidth += ref;
      ++yardstickPairs;
    } else {
      double cdev = std::max(maxRelDev(crl->lower, crLo), maxRelDev(crl->upper, crHi));
      EXPECT_LE(cdev, 1e-4) << "CROWN differs from auto_LiRPA's";
      crownMatches += cdev <= 1e-4;
      worstCrown = std::max(worstCrown, cdev);
    }

    const int count = 256;
    auto pts = samplePoints(lo, hi, count, rng);
    std::vector<float> ys(count * m->outSize);
    k.eval(pts.data(), ys.data(), count);
    for (int s = 0; s < count; ++s)
      for (int64_t j = 0; j < m->outSize; ++j) {
        ASSERT_LE(ylo[j], ys[s * m->outSize + j]) << "sample " << s;
        ASSERT_GE(yhi[j], ys[s * m->outSize + j]) << "sample " << s;
        ASSERT_LE(cr->lower[j], ys[s * m->outSize + j]) << "sample " << s;
        ASSERT_GE(cr->upper[j], ys[s * m->outSize + j]) << "sample " << s;
        ASSERT_LE(crl->lower[j], ys[s * m->outSize + j]) << "sample " << s;
        ASSERT_GE(crl->upper[j], ys[s * m->outSize + j]) << "sample " << s;
      }
    ++checked;
  }
  testing::Test::RecordProperty("cases", checked);
  std::printf("[ reference ] %s: %d network/property pairs, max relative deviation from the "
              "reference IBP %.3g, from the interpreter %.3g; CROWN within 1e-4 of the reference on "
              "%d, max relative deviation %.3g\n",
              category.c_str(), checked, worstRef, worstInterp, crownMatches, worstCrown);
  if (yardstickPairs > 0)
    std::printf("[ reference ] %s: %d sigmoid network/property pairs, CROWN's total width %.4g "
                "of auto_LiRPA's; %d single bounds looser than its\n",
                category.c_str(), yardstickPairs, widthSum / refWidth, looserBounds);
}

TEST(Reference, AcasXuIbpMatchesLirpa) { checkCategory("acasxu"); }
TEST(Reference, MnistFcIbpMatchesLirpa) { checkCategory("mnist_fc"); }
TEST(Reference, EranIbpMatchesLirpa) { checkCategory("eran"); }

} // namespace

//===- test/e2e/PipelineTest.cpp - Generated models end to end ------------===//
//
// For each model made by test/models/gen_models.py (and the README example):
// JIT kernels, the AOT library and the IR interpreter agree; concrete outputs
// match the float64 reference the generator wrote; every sampled output of the
// box lies inside the IBP bounds and the CROWN bounds.
//
//===----------------------------------------------------------------------===//
#include "test/e2e/E2eSupport.h"

#include "codegen/Compiler.h"
#include "frontend/onnx/OnnxImporter.h"
#include "ir/Interpreter.h"
#include "passes/PassManager.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace gma;
using namespace gma::e2e;

namespace {

std::vector<std::string> generatedModels() {
  std::vector<std::string> names;
  fs::path dir = fs::path(GAMMA_SOURCE_DIR) / "test" / "models";
  if (fs::exists(dir))
    for (const auto &e : fs::directory_iterator(dir))
      if (e.path().extension() == ".json" && e.path().stem().extension() == ".ref")
        names.push_back(e.path().stem().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class GeneratedModel : public testing::TestWithParam<std::string> {};

TEST_P(GeneratedModel, KernelsInterpreterAndReferenceAgree) {
  fs::path dir = fs::path(GAMMA_SOURCE_DIR) / "test" / "models";
  std::ifstream in(dir / (GetParam() + ".ref.json"));
  nlohmann::json ref = nlohmann::json::parse(in);
  {
    // Models with ops that have IR records but no kernels yet (conv) are
    // checked against their reference by OnnxModels.* and the interpreter.
    auto g = frontend::importOnnxFile((dir / (GetParam() + ".onnx")).string());
    ASSERT_TRUE(static_cast<bool>(g)) << g.error().str();
    if (passes::runDefaultPipeline(*g)) {
      auto jit = codegen::JitVerifier::compile(*g);
      if (!jit && jit.error().code() == ErrorCode::KernelUnsupported)
        GTEST_SKIP() << jit.error().str();
    }
  }
  auto m = compileModel((dir / (GetParam() + ".onnx")).string());
  ASSERT_TRUE(m);
  runtime::Kernels k(m->jit->info(), m->jit->weights());

  // Concrete outputs against the generator's float64 reference.
  auto inputs = ref["inputs"].get<std::vector<std::vector<float>>>();
  auto outputs = ref["outputs"].get<std::vector<std::vector<double>>>();
  ASSERT_FALSE(inputs.empty());
  int64_t batch = static_cast<int64_t>(inputs.size());
  std::vector<float> x, y(batch * m->outSize);
  std::vector<double> yref;
  for (int64_t b = 0; b < batch; ++b) {
    x.insert(x.end(), inputs[b].begin(), inputs[b].end());
    yref.insert(yref.end(), outputs[b].begin(), outputs[b].end());
  }
  k.eval(x.data(), y.data(), batch);
  EXPECT_LT(maxRelDev(y, yref), 1e-4);
  auto yi = ir::evaluate(m->original, {x}, batch);
  ASSERT_TRUE(static_cast<bool>(yi)) << yi.error().str();
  EXPECT_LT(maxRelDev(y, (*yi)[0]), 1e-5);

  // IBP: kernels against the interpreter on the original and optimised graphs.
  std::vector<float> lo = ref["box"]["lo"].get<std::vector<float>>();
  std::vector<float> hi = ref["box"]["hi"].get<std::vector<float>>();
  std::vector<float> ylo(m->outSize), yhi(m->outSize);
  k.ibp(lo.data(), hi.data(), ylo.data(), yhi.data(), 1);
  for (const ir::Graph *g : {&m->original, &m->optimized}) {
    auto r = ir::ibp(*g, {{lo, hi}}, 1);
    ASSERT_TRUE(static_cast<bool>(r)) << r.error().str();
    EXPECT_LT(maxRelDev(ylo, (*r)[0].lo), 1e-5);
    EXPECT_LT(maxRelDev(yhi, (*r)[0].hi), 1e-5);
  }

  // Soundness by sampling.
  std::mt19937 rng(42);
  const int count = 512;
  auto pts = samplePoints(lo, hi, count, rng);
  std::vector<float> ys(count * m->outSize);
  k.eval(pts.data(), ys.data(), count);
  for (int s = 0; s < count; ++s)
    for (int64_t j = 0; j < m->outSize; ++j) {
      ASSERT_LE(ylo[j], ys[s * m->outSize + j]) << "sample " << s << " output " << j;
      ASSERT_GE(yhi[j], ys[s * m->outSize + j]) << "sample " << s << " output " << j;
    }

  // CROWN, where the model has a crown kernel: the lower bounds of y_j and
  // of -y_j contain every sample too.
  if (!m->jit->info()->crown)
    return;
  const int64_t rows = 2 * m->outSize;
  std::vector<double> C(rows * m->outSize, 0.0);
  for (int64_t j = 0; j < m->outSize; ++j) {
    C[j * m->outSize + j] = 1.0;
    C[(m->outSize + j) * m->outSize + j] = -1.0;
  }
  std::vector<float> lower(rows);
  Status st = k.crown(lo.data(), hi.data(), C.data(), rows, lower.data(), nullptr, 1);
  ASSERT_TRUE(static_cast<bool>(st)) << st.error().str();
  for (int s = 0; s < count; ++s)
    for (int64_t j = 0; j < m->outSize; ++j) {
      float y = ys[s * m->outSize + j];
      ASSERT_LE(lower[j], y) << "crown, sample " << s << " output " << j;
      ASSERT_LE(lower[m->outSize + j], -y) << "crown, sample " << s << " output " << j;
    }
}

INSTANTIATE_TEST_SUITE_P(Models, GeneratedModel, testing::ValuesIn(generatedModels()),
                         [](const auto &info) {
                           std::string n = info.param;
                           for (char &c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GeneratedModel);

TEST(Pipeline, AotLibraryMatchesJitBitForBit) {
  std::string model = std::string(GAMMA_SOURCE_DIR) + "/examples/mlp.onnx";
  auto m = compileModel(model);
  ASSERT_TRUE(m);
  fs::path lib = fs::path(GAMMA_BINARY_DIR) / "test" / "e2e" / "aot_vs_jit.so";
  fs::create_directories(lib.parent_path());
  Status s = codegen::emitToFile(m->optimized, codegen::EmitKind::SharedLibrary, lib.string());
  ASSERT_TRUE(static_cast<bool>(s)) << s.error().str();
  auto loaded = runtime::VerifierLibrary::open(lib.string());
  ASSERT_TRUE(static_cast<bool>(loaded)) << loaded.error().str();
  runtime::Kernels aot((*loaded)->info(), (*loaded)->weights()), jit(m->jit->info(), m->jit->weights());
  ASSERT_EQ(aot.info().input_size, jit.info().input_size);

  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0, 1);
  const int64_t batch = 37; // not a multiple of any vector or tile width
  std::vector<float> lo(batch * m->inSize), hi(batch * m->inSize);
  for (size_t i = 0; i < lo.size(); ++i) {
    lo[i] = u(rng);
    hi[i] = lo[i] + 0.05f * u(rng);
  }
  size_t outN = batch * m->outSize;
  std::vector<float> aotLo(outN), aotHi(outN), jitLo(outN), jitHi(outN);
  aot.ibp(lo.data(), hi.data(), aotLo.data(), aotHi.data(), batch);
  jit.ibp(lo.data(), hi.data(), jitLo.data(), jitHi.data(), batch);
  EXPECT_EQ(aotLo, jitLo);
  EXPECT_EQ(aotHi, jitHi);
  std::vector<float> aotY(outN), jitY(outN);
  aot.eval(lo.data(), aotY.data(), batch);
  jit.eval(lo.data(), jitY.data(), batch);
  EXPECT_EQ(aotY, jitY);

  // A batch gives the same bounds as one call per box.
  for (int64_t b = 0; b < batch; b += 9) {
    std::vector<float> l1(m->outSize), h1(m->outSize);
    jit.ibp(&lo[b * m->inSize], &hi[b * m->inSize], l1.data(), h1.data(), 1);
    for (int64_t j = 0; j < m->outSize; ++j) {
      EXPECT_EQ(l1[j], jitLo[b * m->outSize + j]);
      EXPECT_EQ(h1[j], jitHi[b * m->outSize + j]);
    }
  }
}

} // namespace

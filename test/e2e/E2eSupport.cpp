//===- test/e2e/E2eSupport.cpp - Shared helpers of the end-to-end tests ---===//
#include "test/e2e/E2eSupport.h"

#include "frontend/onnx/OnnxImporter.h"
#include "ir/Rounding.h"
#include "passes/PassManager.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>
#include <limits>

namespace gma::e2e {

std::unique_ptr<CompiledModel> compileModel(const std::string &onnxPath) {
  auto m = std::make_unique<CompiledModel>();
  auto g = frontend::importOnnxFile(onnxPath);
  if (!g) {
    ADD_FAILURE() << g.error().str();
    return nullptr;
  }
  m->original = *g;
  m->optimized = std::move(*g);
  passes::PipelineOptions popts;
  popts.verifyEach = true;
  if (auto s = passes::runDefaultPipeline(m->optimized, popts); !s) {
    ADD_FAILURE() << s.error().str();
    return nullptr;
  }
  auto jit = codegen::JitVerifier::compile(m->optimized);
  if (!jit) {
    ADD_FAILURE() << jit.error().str();
    return nullptr;
  }
  m->jit = std::move(*jit);
  m->inSize = m->jit->info()->input_size;
  m->outSize = m->jit->info()->output_size;
  return m;
}

void boxToF32(const std::vector<double> &lo, const std::vector<double> &hi,
              std::vector<float> &flo, std::vector<float> &fhi) {
  flo.resize(lo.size());
  fhi.resize(hi.size());
  for (size_t i = 0; i < lo.size(); ++i) {
    flo[i] = ir::f32Below(lo[i]);
    fhi[i] = ir::f32Above(hi[i]);
  }
}

std::vector<float> samplePoints(const std::vector<float> &lo, const std::vector<float> &hi,
                                int count, std::mt19937 &rng) {
  size_t n = lo.size();
  std::vector<float> pts(count * n);
  std::uniform_real_distribution<double> u(0, 1);
  int corners = n < 6 ? (1 << n) : 64;
  for (int s = 0; s < count; ++s)
    for (size_t i = 0; i < n; ++i) {
      double t = s < corners ? ((s >> (i % 6)) & 1) : u(rng);
      float v = static_cast<float>(lo[i] + t * (static_cast<double>(hi[i]) - lo[i]));
      pts[s * n + i] = std::clamp(v, lo[i], hi[i]);
    }
  return pts;
}

double maxRelDev(const std::vector<float> &a, const std::vector<double> &b) {
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]) /
                                std::max({std::fabs(static_cast<double>(a[i])), std::fabs(b[i]), 1.0}));
  return worst;
}

double maxRelDev(const std::vector<float> &a, const std::vector<float> &b) {
  return maxRelDev(a, std::vector<double>(b.begin(), b.end()));
}

std::string sharedDir() { return GAMMA_SHARED_DIR; }

bool haveShared() {
  return std::filesystem::is_directory(std::filesystem::path(sharedDir()) / "benchmarks" / "vnncomp");
}

} // namespace gma::e2e

//===- test/e2e/E2eSupport.h - Shared helpers of the end-to-end tests -----===//
#pragma once

#include "codegen/Compiler.h"
#include "ir/Graph.h"
#include "runtime/VerifierLibrary.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace gma::e2e {

/// A model taken through the whole pipeline: the imported graph (the
/// interpreter's oracle), the optimised graph and its JIT kernels.
struct CompiledModel {
  ir::Graph original;
  ir::Graph optimized;
  std::unique_ptr<codegen::JitVerifier> jit;
  int64_t inSize = 0, outSize = 0;
};

/// Imports, optimises and JIT-compiles; fails the current test on error.
std::unique_ptr<CompiledModel> compileModel(const std::string &onnxPath);

/// Outward rounding of a double box to f32.
void boxToF32(const std::vector<double> &lo, const std::vector<double> &hi,
              std::vector<float> &flo, std::vector<float> &fhi);

/// `count` points of the box: its corners first (up to 64), then uniform samples.
std::vector<float> samplePoints(const std::vector<float> &lo, const std::vector<float> &hi,
                                int count, std::mt19937 &rng);

/// max |a - b| / max(|a|, |b|, 1).
double maxRelDev(const std::vector<float> &a, const std::vector<double> &b);
double maxRelDev(const std::vector<float> &a, const std::vector<float> &b);

std::string sharedDir();
bool haveShared();

} // namespace gma::e2e

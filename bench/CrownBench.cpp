//===- bench/CrownBench.cpp - CROWN kernel vs the reference ir::crown -----===//
//
// Time per box of the JIT-compiled crown kernel and of ir::crown (the Eigen
// reference, same bounds) on one network, for several batch sizes, and their
// ratio. Boxes are random sub-boxes (a fraction `--frac` of each side) of a
// VNN-LIB property's input box; C is the property's first output conjunction.
// It also prints the largest relative difference of the two bounds.
//
//   crown_bench [--batches 1,256] [--min-time 0.5] [--frac 0.125] [-O 3]
//               [--prop prop_2.vnnlib] [model.onnx]
// Defaults: ../shared's ACAS Xu 1_1 with prop_2.
//
//===----------------------------------------------------------------------===//
#include "bench/BenchSupport.h"
#include "codegen/Compiler.h"
#include "frontend/onnx/OnnxImporter.h"
#include "frontend/vnnlib/VnnLib.h"
#include "ir/Crown.h"
#include "passes/PassManager.h"
#include "runtime/VerifierLibrary.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gma;
using gma::bench::timeIt;
using Clock = std::chrono::steady_clock;

namespace {

int fail(const std::string &msg) {
  std::fprintf(stderr, "crown_bench: %s\n", msg.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> batches = {1, 256};
  double minTime = 0.5, frac = 0.125;
  int optLevel = 3;
  fs::path acas = fs::path(GAMMA_SOURCE_DIR) / ".." / "shared" / "benchmarks" / "vnncomp" / "acasxu";
  std::string model = (acas / "onnx" / "ACASXU_run2a_1_1_batch_2000.onnx").string();
  std::string propPath = (acas / "vnnlib" / "prop_2.vnnlib").string();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--batches") && i + 1 < argc) {
      batches.clear();
      std::string list = argv[++i];
      for (size_t pos = 0; pos < list.size();) {
        size_t comma = list.find(',', pos);
        batches.push_back(std::stoll(list.substr(pos, comma - pos)));
        pos = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else if (!std::strcmp(argv[i], "--min-time") && i + 1 < argc) {
      minTime = std::stod(argv[++i]);
    } else if (!std::strcmp(argv[i], "--frac") && i + 1 < argc) {
      frac = std::stod(argv[++i]);
    } else if (!std::strcmp(argv[i], "-O") && i + 1 < argc) {
      optLevel = std::stoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--prop") && i + 1 < argc) {
      propPath = argv[++i];
    } else {
      model = argv[i];
    }
  }

  auto g = frontend::importOnnxFile(model);
  if (!g)
    return fail(g.error().str());
  if (auto s = passes::runDefaultPipeline(*g); !s)
    return fail(s.error().str());
  auto prop = frontend::parseVnnlibFile(propPath);
  if (!prop)
    return fail(prop.error().str());
  codegen::CodegenOptions copts;
  copts.optLevel = optLevel;
  auto compileStart = Clock::now();
  auto jit = codegen::JitVerifier::compile(*g, copts);
  std::printf("compile (JIT, -O%d): %.3f s\n", optLevel,
              std::chrono::duration<double>(Clock::now() - compileStart).count());
  if (!jit)
    return fail(jit.error().str());
  runtime::Kernels k((*jit)->info(), (*jit)->weights());
  if (!k.info().crown)
    return fail("the model has no crown kernel");
  const int64_t in = k.info().input_size, out = k.info().output_size;
  const frontend::PropertyCase &pc = prop->cases.at(0);
  const frontend::OutputConjunction &conj = pc.disjuncts.at(0);
  const int64_t rows = static_cast<int64_t>(conj.C.size());
  std::vector<double> C;
  for (const auto &r : conj.C)
    C.insert(C.end(), r.begin(), r.end());

  std::printf("model %s, property %s: %lld inputs, %lld outputs, %lld rows of C; sub-boxes "
              "%.3g of each side\n",
              fs::path(model).filename().c_str(), fs::path(propPath).filename().c_str(),
              static_cast<long long>(in), static_cast<long long>(out),
              static_cast<long long>(rows), frac);
  std::printf("crown scratch per box: %lld + %lld·rows floats\n\n",
              static_cast<long long>(k.info().crown_scratch_floats_base),
              static_cast<long long>(k.info().crown_scratch_floats_per_row));
  std::printf("%6s %14s %14s %9s %14s\n", "batch", "kernel/box", "ir::crown/box", "speedup",
              "max rel diff");
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t batch : batches) {
    std::vector<float> lo(batch * in), hi(batch * in), lower(batch * rows);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < in; ++j) {
        double w = (pc.hi[j] - pc.lo[j]) * frac;
        double l = pc.lo[j] + u(rng) * (pc.hi[j] - pc.lo[j] - w);
        lo[b * in + j] = static_cast<float>(l);
        hi[b * in + j] = static_cast<float>(l + w);
      }
    double tk = timeIt(
        [&] {
          Status st = k.crown(lo.data(), hi.data(), C.data(), rows, lower.data(), nullptr, batch);
          (void)st;
        },
        minTime);
    // The reference runs box by box; time at most 64 boxes of the batch.
    int64_t refBoxes = std::min<int64_t>(batch, 64);
    double maxDiff = 0;
    double tr = timeIt(
        [&] {
          for (int64_t b = 0; b < refBoxes; ++b) {
            std::vector<float> blo(lo.begin() + b * in, lo.begin() + (b + 1) * in);
            std::vector<float> bhi(hi.begin() + b * in, hi.begin() + (b + 1) * in);
            auto ref = ir::crown(*g, blo, bhi, C, rows);
            if (!ref)
              continue;
            for (int64_t r = 0; r < rows; ++r)
              maxDiff = std::max(maxDiff, std::fabs(lower[b * rows + r] - ref->lower[r]) /
                                              (std::fabs(ref->lower[r]) + 1.0));
          }
        },
        minTime);
    double perBoxKernel = tk / static_cast<double>(batch);
    double perBoxRef = tr / static_cast<double>(refBoxes);
    std::printf("%6lld %11.1f us %11.1f us %8.1fx %14.2e\n", static_cast<long long>(batch),
                perBoxKernel * 1e6, perBoxRef * 1e6, perBoxRef / perBoxKernel, maxDiff);
  }
  std::printf("\nspeedup = ir::crown time per box / kernel time per box (same bounds; max rel "
              "diff = max |kernel - ir::crown| / (|ir::crown| + 1)).\n");
  return 0;
}

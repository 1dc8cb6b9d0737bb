//===- bench/IbpBench.cpp - Batched IBP: kernels vs interpreter vs GEMM ---===//
//
// For each model: batched IBP through the JIT kernels and through the IR
// interpreter (the same bounds, computed by the reference implementation), and
// the kernels' arithmetic rate against this machine's measured f32 GEMM rate
// (Eigen, same process, one thread) and their weight-streaming rate against the
// measured memory bandwidth. Ratios, not seconds: the machine is shared.
//
// IBP of an affine layer is two matrix products (W·c and |W|·r), so its work is
// counted as 4·K·N flops per sample, the same as two GEMMs of that shape; a
// conv's as 4 flops per tap (weights × output positions).
//
//   ibp_bench [--batches 1,64,1024] [--min-time 0.3] model.onnx...
// With no models, it uses ../shared's ACAS Xu 1_1 and mnist_fc networks if
// present, else examples/mlp.onnx.
//
//===----------------------------------------------------------------------===//
#include "bench/BenchSupport.h"
#include "codegen/Compiler.h"
#include "frontend/onnx/OnnxImporter.h"
#include "ir/Interpreter.h"
#include "passes/PassManager.h"
#include "runtime/VerifierLibrary.h"

#include <Eigen/Dense>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace gma;
using gma::bench::timeIt;
using Clock = std::chrono::steady_clock;

namespace {

double measureGemmFlops(double minTime) {
  const int n = 512;
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  double s = timeIt([&] { c.noalias() = a * b; }, minTime);
  return 2.0 * n * n * n / s;
}

double measureBandwidth(double minTime) {
  const size_t n = size_t(1) << 26; // 256 MiB of floats
  std::vector<float> src(n, 1.0f);
  volatile float sink = 0;
  double s = timeIt(
      [&] {
        float acc = 0;
        for (size_t i = 0; i < n; i += 16)
          acc += src[i];
        sink = sink + acc;
      },
      minTime);
  (void)sink;
  return n * sizeof(float) / s; // bytes per second (every cache line read once)
}

struct ModelStats {
  double flopsPerSample = 0; ///< 4·K·N per affine layer, 4·taps per conv
  double weightBytes = 0;
};

ModelStats statsOf(const ir::Graph &g) {
  ModelStats s;
  for (const ir::Op &op : g.ops) {
    const bool conv = op.kind == ir::OpKind::Conv;
    if (op.kind != ir::OpKind::Affine && op.kind != ir::OpKind::MatMul && !conv)
      continue;
    const ir::TensorType &w = g.type(op.operands[1]);
    double kn = static_cast<double>(w.numel());
    // A conv applies each weight once per output position (padding taps
    // counted too: an upper bound on the work, so a lower bound on the rate).
    double uses = conv ? static_cast<double>(g.type(op.result).numel()) / w.shape[0] : 1.0;
    s.flopsPerSample += 4 * kn * uses;
    s.weightBytes += 4 * kn;
  }
  return s;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> batches = {1, 64, 1024};
  double minTime = 0.3;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--batches") && i + 1 < argc) {
      batches.clear();
      std::string list = argv[++i];
      size_t pos = 0;
      while (pos < list.size()) {
        size_t comma = list.find(',', pos);
        batches.push_back(std::stoll(list.substr(pos, comma - pos)));
        pos = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else if (!std::strcmp(argv[i], "--min-time") && i + 1 < argc) {
      minTime = std::stod(argv[++i]);
    } else {
      models.push_back(argv[i]);
    }
  }
  if (models.empty()) {
    fs::path shared = fs::path(GAMMA_SOURCE_DIR) / ".." / "shared" / "benchmarks" / "vnncomp";
    if (fs::exists(shared)) {
      models.push_back((shared / "acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx").string());
      for (const char *n : {"mnist-net_256x2", "mnist-net_256x4", "mnist-net_256x6"})
        models.push_back((shared / "mnist_fc/onnx" / (std::string(n) + ".onnx")).string());
    } else {
      models.push_back(std::string(GAMMA_SOURCE_DIR) + "/examples/mlp.onnx");
    }
  }

  double gemm = measureGemmFlops(minTime);
  double bw = measureBandwidth(minTime);
  std::printf("machine: f32 GEMM (Eigen, 1 thread, 512^3) %.1f GFLOP/s; read bandwidth %.1f GB/s\n\n",
              gemm / 1e9, bw / 1e9);
  std::printf("%-34s %6s %12s %12s %10s %10s %10s\n", "model", "batch", "kernel/call",
              "interp/call", "speedup", "vs GEMM", "vs BW");

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  for (const std::string &path : models) {
    auto g = frontend::importOnnxFile(path);
    if (!g) {
      std::fprintf(stderr, "%s\n", g.error().str().c_str());
      return 1;
    }
    ir::Graph original = *g;
    if (auto s = passes::runDefaultPipeline(*g); !s) {
      std::fprintf(stderr, "%s\n", s.error().str().c_str());
      return 1;
    }
    auto jit = codegen::JitVerifier::compile(*g);
    if (!jit) {
      std::fprintf(stderr, "%s\n", jit.error().str().c_str());
      return 1;
    }
    runtime::Kernels k((*jit)->info(), (*jit)->weights());
    ModelStats st = statsOf(*g);
    int64_t in = k.info().input_size, out = k.info().output_size;
    for (int64_t b : batches) {
      std::vector<float> lo(b * in), hi(b * in), ylo(b * out), yhi(b * out);
      for (int64_t i = 0; i < b * in; ++i) {
        lo[i] = u(rng);
        hi[i] = lo[i] + 0.02f;
      }
      double tk = timeIt([&] { k.ibp(lo.data(), hi.data(), ylo.data(), yhi.data(), b); }, minTime);
      double ti = timeIt([&] { (void)ir::ibp(original, {{lo, hi}}, b); }, minTime);
      double rate = st.flopsPerSample * b / tk;
      double stream = st.weightBytes / tk; // weights are read at least once per call
      std::printf("%-34s %6lld %10.3f ms %10.3f ms %9.1fx %9.3f %9.3f\n",
                  fs::path(path).stem().string().substr(0, 34).c_str(), static_cast<long long>(b),
                  tk * 1e3, ti * 1e3, ti / tk, rate / gemm, stream / bw);
    }
  }
  std::printf("\nspeedup = interpreter time / kernel time (same bounds). vs GEMM = kernel IBP flop rate "
              "(4·K·N per sample per affine layer) / Eigen GEMM rate. vs BW = weight bytes per call / "
              "time / read bandwidth.\n");
  return 0;
}

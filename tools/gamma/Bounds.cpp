//===- tools/gamma/Bounds.cpp - `gamma bounds` ----------------------------===//
//
// Reads the model and the property, gets kernels (JIT, a gammac library, or the
// IR interpreter), and runs IBP or CROWN over every input box of the property
// in one batched call: the compiled ibp or crown kernel, or the reference
// implementations of ir/ (--engine interp; --lirpa-compatible CROWN always
// runs there). Input boxes are rounded outward to f32, so the f32 box contains
// the box as written.
//
//===----------------------------------------------------------------------===//
#include "tools/gamma/Commands.h"
#include "tools/gamma/ToolSupport.h"

#include "codegen/Compiler.h"
#include "frontend/onnx/OnnxImporter.h"
#include "frontend/vnnlib/VnnLib.h"
#include "ir/Crown.h"
#include "ir/Interpreter.h"
#include "ir/Rounding.h"
#include "passes/PassManager.h"
#include "runtime/VerifierLibrary.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <fstream>
#include <limits>
#include <sstream>

namespace gma::tools {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}




/// Each f32 as the equal double; nlohmann writes infinite bounds as null.
std::vector<double> jsonList(const float *v, int64_t n) { return std::vector<double>(v, v + n); }

} // namespace

ExitCode runBounds(const BoundsOptions &opts) {
  auto t0 = Clock::now();
  auto prop = frontend::parseVnnlibFile(opts.vnnlib);
  if (!prop)
    return fail(prop.error());
  const bool crown = opts.method == "crown";
  std::string engine = opts.engine; ///< jit falls back to interp (E5005)
  if (opts.lirpaCompatible && (!crown || !opts.verifier.empty() || opts.engine != "interp"))
    return fail(Error(ErrorCode::InvalidArgument,
                      "--lirpa-compatible is a CROWN option of the reference implementation: "
                      "use it with --method crown --engine interp (and no --verifier)"));

  // Kernels: a gammac library, or the model compiled here.
  std::unique_ptr<runtime::VerifierLibrary> library;
  std::unique_ptr<codegen::JitVerifier> jit;
  std::optional<ir::Graph> graph;
  const gamma_kernel_info *info = nullptr;
  const float *const *weights = nullptr; // the table the kernels take first
  int64_t inSize = 0, outSize = 0;
  // The model is imported even with a library: its digest (the file and its
  // external data) must be the one the library was compiled from.
  auto imported = frontend::importOnnxFile(opts.model);
  if (!imported)
    return fail(imported.error());
  if (!opts.verifier.empty()) {
    auto lib = runtime::VerifierLibrary::open(opts.verifier);
    if (!lib)
      return fail(lib.error());
    library = std::move(*lib);
    info = library->info();
    weights = library->weights();
    if (Status s = checkLibraryModel(info, imported->sourceDigest, opts.model, opts.verifier); !s)
      return fail(s.error());
  } else {
    graph = std::move(*imported);
    if (graph->inputs.size() != 1 || graph->outputs.size() != 1) {
      Location loc;
      loc.file = opts.model;
      return fail(Error(ErrorCode::OnnxGraphShape,
                        fmt::format("gamma bounds needs one input and one output; the model has "
                                    "{} and {}",
                                    graph->inputs.size(), graph->outputs.size()),
                        loc));
    }
    if (opts.engine == "jit" || crown) {
      if (auto s = passes::runDefaultPipeline(*graph); !s)
        return fail(s.error());
    }
    if (opts.engine == "jit") {
      codegen::CodegenOptions copts;
      copts.modelDigest = graph->sourceDigest;
      auto j = codegen::JitVerifier::compile(*graph, copts);
      if (!j && j.error().code() == ErrorCode::KernelUnsupported) {
        // An op with an IR record but no kernels yet: the reference
        // interpreter bounds it (slower), on the optimised graph.
        std::fprintf(stderr, "gamma: note: %s; bounding with the reference interpreter\n",
                     j.error().str().c_str());
        engine = "interp";
      } else if (!j) {
        return fail(j.error());
      } else {
        jit = std::move(*j);
        info = jit->info();
        weights = jit->weights();
      }
    }
  }
  if (info) {
    inSize = info->input_size;
    outSize = info->output_size;
  } else {
    inSize = graph->type(graph->inputs[0]).numel();
    outSize = graph->type(graph->outputs[0]).numel();
  }
  double prepareSeconds = secondsSince(t0);

  if (Status s = checkPropertyFits(*prop, inSize, outSize, opts.vnnlib); !s)
    return fail(s.error());

  // One batched call over every input box of the property.
  int64_t batch = static_cast<int64_t>(prop->cases.size());
  std::vector<float> lo(batch * inSize), hi(batch * inSize);
  for (int64_t c = 0; c < batch; ++c)
    for (int64_t i = 0; i < inSize; ++i) {
      // Outside the box as written, not only its nearest doubles.
      lo[c * inSize + i] = ir::f32Below(prop->cases[c].loOutside(i));
      hi[c * inSize + i] = ir::f32Above(prop->cases[c].hiOutside(i));
    }
  std::vector<float> ylo(batch * outSize), yhi(batch * outSize);
  auto t1 = Clock::now();
  if (crown && info) {
    // The crown kernel on the rows ±e_j: lower bounds of y_j and of -y_j.
    runtime::Kernels kernels(info, weights);
    std::vector<double> C(static_cast<size_t>(2 * outSize * outSize), 0.0);
    for (int64_t j = 0; j < outSize; ++j) {
      C[j * outSize + j] = 1;
      C[(outSize + j) * outSize + j] = -1;
    }
    std::vector<float> rowLower(batch * 2 * outSize);
    if (Status s = kernels.crown(lo.data(), hi.data(), C.data(), 2 * outSize, rowLower.data(),
                                 nullptr, batch);
        !s)
      return fail(s.error());
    for (int64_t c = 0; c < batch; ++c)
      for (int64_t j = 0; j < outSize; ++j) {
        ylo[c * outSize + j] = rowLower[c * 2 * outSize + j];
        yhi[c * outSize + j] = -rowLower[c * 2 * outSize + outSize + j];
      }
  } else if (crown) {
    for (int64_t c = 0; c < batch; ++c) {
      std::vector<float> l(lo.begin() + c * inSize, lo.begin() + (c + 1) * inSize);
      std::vector<float> h(hi.begin() + c * inSize, hi.begin() + (c + 1) * inSize);
      ir::CrownOptions copts;
      copts.intersectIntermediate = !opts.lirpaCompatible;
      copts.parallelFinal = !opts.lirpaCompatible;
      auto r = ir::crown(*graph, l, h, {}, 0, copts);
      if (!r)
        return fail(r.error());
      std::copy(r->lower.begin(), r->lower.end(), ylo.begin() + c * outSize);
      std::copy(r->upper.begin(), r->upper.end(), yhi.begin() + c * outSize);
    }
  } else if (info) {
    runtime::Kernels kernels(info, weights);
    kernels.ibp(lo.data(), hi.data(), ylo.data(), yhi.data(), batch);
  } else {
    auto r = ir::ibp(*graph, {{lo, hi}}, batch);
    if (!r)
      return fail(r.error());
    ylo = (*r)[0].lo;
    yhi = (*r)[0].hi;
  }
  double boundSeconds = secondsSince(t1);

  // Bounds over the union of the boxes: the elementwise hull.
  std::vector<float> lower(outSize, std::numeric_limits<float>::infinity());
  std::vector<float> upper(outSize, -std::numeric_limits<float>::infinity());
  for (int64_t c = 0; c < batch; ++c)
    for (int64_t j = 0; j < outSize; ++j) {
      lower[j] = std::min(lower[j], ylo[c * outSize + j]);
      upper[j] = std::max(upper[j], yhi[c * outSize + j]);
    }

  if (library)
    engine = "aot";
  if (opts.json) {
    nlohmann::ordered_json out;
    out["method"] = opts.method;
    out["lower"] = jsonList(lower.data(), outSize);
    out["upper"] = jsonList(upper.data(), outSize);
    out["time_s"] = boundSeconds;
    out["prepare_s"] = prepareSeconds;
    out["engine"] = engine;
    out["boxes"] = batch;
    if (batch > 1) {
      nlohmann::ordered_json cases = nlohmann::ordered_json::array();
      for (int64_t c = 0; c < batch; ++c)
        cases.push_back({{"lower", jsonList(&ylo[c * outSize], outSize)},
                         {"upper", jsonList(&yhi[c * outSize], outSize)}});
      out["cases"] = std::move(cases);
    }
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s bounds of %s over %lld input box%s (%s, %.3f ms; prepared in %.3f s)\n",
                opts.method.c_str(), opts.model.c_str(), static_cast<long long>(batch),
                batch == 1 ? "" : "es", engine.c_str(), boundSeconds * 1e3, prepareSeconds);
    for (int64_t j = 0; j < outSize; ++j)
      std::printf("Y_%lld  [%.9g, %.9g]\n", static_cast<long long>(j), lower[j], upper[j]);
  }
  return ExitCode::Success;
}

} // namespace gma::tools

//===- tools/gamma/Verify.cpp - `gamma verify` and `gamma prepare` --------===//
//
// Reads the model and the property, gets compiled kernels (a gammac library,
// the compile cache, or the JIT), builds a bound engine and runs
// falsification and branch-and-bound (runtime/Bab.h). The verdict goes to
// stdout (or JSON), and to a VNN-COMP result file written atomically.
//
// The timeout counts from start-up: the search's deadline leaves a little time
// to write the result. SIGINT/SIGTERM cancel the search; the answer is then
// `unknown`, still written.
//
//===----------------------------------------------------------------------===//
#include "tools/gamma/Commands.h"
#include "tools/gamma/ToolSupport.h"

#include "frontend/onnx/OnnxImporter.h"
#include "frontend/vnnlib/VnnLib.h"
#include "ir/Rounding.h"
#include "passes/PassManager.h"
#include "runtime/Bab.h"
#include "runtime/ModelHash.h"
#include "runtime/Result.h"
#include "runtime/VerifierLibrary.h"
#include "runtime/KernelEngine.h"
#include "tools/gamma/Cache.h"
#include "tools/gamma/Engines.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <sstream>

namespace gma::tools {
namespace {

/// Whether ir::crown handles every op of the graph.
bool referenceCrownSupports(const ir::Graph &g) {
  for (const ir::Op &op : g.ops)
    if (op.kind == ir::OpKind::Transpose)
      return false;
  return true;
}

using Clock = std::chrono::steady_clock;

std::atomic<bool> gCancel{false};

extern "C" void onSignal(int) { gCancel.store(true); }




/// The property in runtime terms: outer boxes rounded outward (proofs cover
/// the box as written), inner boxes rounded inward (counterexamples lie in it).
runtime::Spec toSpec(const frontend::VnnlibProperty &p) {
  runtime::Spec s;
  s.numInputs = p.numInputs;
  s.numOutputs = p.numOutputs;
  for (const frontend::PropertyCase &pc : p.cases) {
    runtime::SpecCase c;
    for (int64_t i = 0; i < p.numInputs; ++i) {
      c.outerLo.push_back(ir::f32Below(pc.lo[i]));
      c.outerHi.push_back(ir::f32Above(pc.hi[i]));
      c.innerLo.push_back(ir::f32Above(pc.lo[i]));
      c.innerHi.push_back(ir::f32Below(pc.hi[i]));
    }
    for (const frontend::OutputConjunction &oc : pc.disjuncts) {
      runtime::Conjunction conj;
      conj.rows = static_cast<int64_t>(oc.C.size());
      for (const auto &row : oc.C)
        conj.C.insert(conj.C.end(), row.begin(), row.end());
      conj.d = oc.d;
      c.disjuncts.push_back(std::move(conj));
    }
    s.cases.push_back(std::move(c));
  }
  return s;
}

Expected<ir::Graph> importOptimized(const std::string &bytes, const std::string &path) {
  auto g = frontend::importOnnxBytes(bytes, path);
  if (!g)
    return g.takeError();
  if (g->inputs.size() != 1 || g->outputs.size() != 1) {
    Location loc;
    loc.file = path;
    return Error(ErrorCode::OnnxGraphShape,
                 fmt::format("gamma verify needs one input and one output; the model has {} and {}",
                             g->inputs.size(), g->outputs.size()),
                 loc);
  }
  if (auto s = passes::runDefaultPipeline(*g); !s)
    return s.takeError();
  return std::move(*g);
}

} // namespace

ExitCode runPrepare(const std::string &model) {
  auto t0 = Clock::now();
  auto bytes = readFile(model);
  if (!bytes)
    return fail(bytes.error());
  auto graph = importOptimized(*bytes, model);
  if (!graph)
    return fail(graph.error());
  auto k = loadOrCompile(*graph, *bytes, /*allowJit=*/false);
  if (!k)
    return fail(k.error());
  std::printf("%s %s (%.3f s)\n", k->source == "cache" ? "cached" : "compiled", k->path.c_str(),
              std::chrono::duration<double>(Clock::now() - t0).count());
  return ExitCode::Success;
}

ExitCode runVerify(const VerifyOptions &opts) {
  auto t0 = Clock::now();
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  auto bytes = readFile(opts.model);
  if (!bytes)
    return fail(bytes.error());
  auto prop = frontend::parseVnnlibFile(opts.vnnlib);
  if (!prop)
    return fail(prop.error());
  auto graph = importOptimized(*bytes, opts.model);
  if (!graph)
    return fail(graph.error());
  int64_t inSize = graph->type(graph->inputs[0]).numel();
  int64_t outSize = graph->type(graph->outputs[0]).numel();
  if (Status s = checkPropertyFits(*prop, inSize, outSize, opts.vnnlib); !s)
    return fail(s.error());

  // Compiled eval kernels: a gammac library, the cache, or the JIT.
  std::unique_ptr<runtime::VerifierLibrary> library;
  CompiledKernels compiled;
  const gamma_kernel_info *info = nullptr;
  std::string source;
  if (!opts.verifier.empty()) {
    auto lib = runtime::VerifierLibrary::open(opts.verifier);
    if (!lib)
      return fail(lib.error());
    library = std::move(*lib);
    info = library->info();
    if (Status s = checkLibraryModel(info, *bytes, opts.model, opts.verifier); !s)
      return fail(s.error());
    Location loc;
    loc.file = opts.verifier;
    if (info->input_size != inSize || info->output_size != outSize)
      return fail(Error(ErrorCode::VerifierMismatch,
                        "the library's input or output size differs from the model's", loc));
    source = "aot";
  } else if (opts.noCache) {
    auto jit = codegen::JitVerifier::compile(*graph, {});
    if (!jit)
      return fail(jit.error());
    compiled.jit = std::move(*jit);
    info = compiled.jit->info();
    source = "jit";
  } else {
    std::string note;
    auto k = loadOrCompile(*graph, *bytes, /*allowJit=*/true, &note);
    if (!k)
      return fail(k.error());
    if (!note.empty())
      std::fprintf(stderr, "gamma: note: %s\n", note.c_str());
    compiled = std::move(*k);
    info = compiled.info;
    source = compiled.source;
  }
  double prepareSeconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // Compiled crown/grad kernels (ReLU and sigmoid networks); the reference
  // CROWN of the IR on request; compiled IBP for a library without crown
  // kernels (built before ABI 2).
  ReferenceEngine reference(*graph, info);
  runtime::KernelEngine kernelEngine(info);
  bool hasCrown = runtime::KernelEngine::hasCrown(info);
  bool useReference = opts.referenceEngine && referenceCrownSupports(*graph);
  const runtime::BoundEngine &engine =
      useReference ? static_cast<const runtime::BoundEngine &>(reference) : kernelEngine;
  const char *boundsName = useReference ? "crown-reference" : hasCrown ? "crown-kernel" : "ibp-kernel";
  runtime::Spec spec = toSpec(*prop);
  runtime::BabOptions bopts;
  bopts.threads = opts.threads;
  bopts.deterministic = opts.deterministic;
  bopts.seed = opts.seed;
  bopts.batch = std::max<int64_t>(1, opts.batch);
  bopts.lookaheads = opts.lookaheads;
  bopts.stop.cancel = &gCancel;
  if (opts.timeout > 0) {
    // Leave time to write the result; the search stops within ~0.1 s of its
    // deadline.
    double budget = std::max(0.0, opts.timeout - 0.15);
    bopts.stop.hasDeadline = true;
    bopts.stop.deadline =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(budget));
  }
  runtime::BabResult res = runtime::verify(engine, spec, bopts);
  res.stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  if (!opts.result.empty())
    if (Status s = runtime::writeResultFile(opts.result, runtime::resultText(res)); !s)
      return fail(s.error());
  if (opts.json) {
    std::string j = runtime::resultJson(res);
    j.pop_back(); // extend the object with the driver's fields
    j += fmt::format(", \"prepare_s\": {:.6g}, \"kernels\": \"{}\", \"bounds\": \"{}\"}}",
                     prepareSeconds, source, boundsName);
    std::printf("%s\n", j.c_str());
  } else {
    std::printf("%s\n", runtime::verdictName(res.verdict));
  }
  if (!res.reason.empty())
    std::fprintf(stderr, "gamma: %s: %s\n", runtime::verdictName(res.verdict), res.reason.c_str());
  return ExitCode::Success;
}

} // namespace gma::tools

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
#include "ir/Interpreter.h"
#include "ir/OpRecord.h"
#include "ir/Rounding.h"
#include "passes/PassManager.h"
#include "runtime/Bab.h"
#include "runtime/Result.h"
#include "runtime/VerifierLibrary.h"
#include "runtime/KernelEngine.h"
#include "tools/gamma/Cache.h"
#include "tools/gamma/Engines.h"

#include "support/Files.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <fstream>
#include <limits>
#include <sstream>

namespace gma::tools {
namespace {

/// Whether ir::crown handles every op of the graph.
bool referenceCrownSupports(const ir::Graph &g) {
  for (const ir::Op &op : g.ops)
    if (op.kind != ir::OpKind::Const && !ir::opRecord(op.kind).crown)
      return false;
  return true;
}

using Clock = std::chrono::steady_clock;

/// Limits of option values (larger ones are refused with InvalidArgument).
constexpr double kMaxTimeoutSeconds = 1e7; // 115 days
constexpr int kMaxThreads = 1024;
constexpr int64_t kMaxBatch = 1 << 16;
/// The search's deadline and the watchdog's, before the limit.
constexpr double kSearchMarginSeconds = 0.1;
constexpr double kWatchdogMarginSeconds = 0.02;

std::atomic<bool> gCancel{false};

extern "C" void onSignal(int) { gCancel.store(true); }

/// The answer of a run cut short before or outside the search: `timeout` when
/// the limit runs out (while importing, compiling, or if the search overran
/// its own deadline), `unknown` on SIGINT/SIGTERM before the search (which
/// handles those itself). A thread polls every 10 ms; when it fires it prints
/// the answer, writes the result file and ends the process, so no phase can
/// hold a run past its limit. The main thread claims the answer before it
/// prints one, so exactly one of them answers.
class Watchdog {
public:
  using Answer = std::function<void(runtime::Verdict, const std::string &reason)>;

  Watchdog(bool hasDeadline, Clock::time_point deadline, Answer answer)
      : hasDeadline_(hasDeadline), deadline_(deadline), answer_(std::move(answer)),
        thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  /// What the run is doing, for the timeout's reason.
  void phase(const char *what, bool searching = false) {
    std::lock_guard<std::mutex> l(m_);
    phase_ = what;
    searching_ = searching;
  }
  /// Takes the right to answer; waits forever if the watchdog has it (it
  /// ends the process).
  void claim() {
    m_.lock();
    claimed_ = true;
    m_.unlock();
  }

private:
  void loop() {
    std::unique_lock<std::mutex> l(m_);
    while (!stop_ && !claimed_) {
      bool late = hasDeadline_ && Clock::now() >= deadline_;
      if (late || (gCancel.load() && !searching_)) {
        // Keep the lock: the main thread can no longer answer.
        answer_(late ? runtime::Verdict::Timeout : runtime::Verdict::Unknown,
                late ? fmt::format("the time limit ran out while {}", phase_)
                     : fmt::format("interrupted while {}", phase_));
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(0);
      }
      cv_.wait_for(l, std::chrono::milliseconds(10));
    }
  }

  bool hasDeadline_;
  Clock::time_point deadline_;
  Answer answer_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false, claimed_ = false, searching_ = false;
  const char *phase_ = "starting";
  std::thread thread_;
};

/// Writes the VNN-COMP result file for `r` (if asked) and prints the answer.
/// The verdict reaches stdout even when the file cannot be written.
ExitCode answer(const VerifyOptions &opts, const runtime::BabResult &r,
                const nlohmann::ordered_json &extra) {
  if (opts.json) {
    nlohmann::ordered_json j = runtime::resultJsonObject(r);
    for (const auto &[k, v] : extra.items())
      j[k] = v;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n", runtime::verdictName(r.verdict));
  }
  std::fflush(stdout);
  if (!r.reason.empty())
    std::fprintf(stderr, "gamma: %s: %s\n", runtime::verdictName(r.verdict), r.reason.c_str());
  if (!opts.result.empty())
    if (Status s = runtime::writeResultFile(opts.result, runtime::resultText(r)); !s)
      return fail(s.error());
  return ExitCode::Success;
}

/// Option values that parse but make no sense, with coded errors.
Status checkVerifyOptions(const VerifyOptions &opts) {
  auto bad = [](std::string msg) { return Error(ErrorCode::InvalidArgument, std::move(msg)); };
  if (!(opts.timeout >= 0 && opts.timeout <= kMaxTimeoutSeconds))
    return bad(fmt::format("--timeout must be a number of seconds in [0, {:g}] (0: no limit)",
                           kMaxTimeoutSeconds));
  if (opts.threads < 0 || opts.threads > kMaxThreads)
    return bad(fmt::format("--threads must be in [0, {}] (0: all cores)", kMaxThreads));
  if (opts.batch < 1 || opts.batch > kMaxBatch)
    return bad(fmt::format("--batch must be in [1, {}]", kMaxBatch));
  for (int l : opts.lookaheads)
    if (l < 1 || l > 1024)
      return bad("--lookahead values must be in [1, 1024]");
  if (opts.activationLookahead < 1 || opts.activationLookahead > 1024)
    return bad("--activation-lookahead must be in [1, 1024]");
  if (opts.split != "auto" && opts.split != "input" && opts.split != "activation" &&
      opts.split != "both")
    return bad("--split must be auto, input, activation or both");
  if (!opts.result.empty()) {
    std::string why =
        support::checkOutputTarget(opts.result, {opts.model, opts.vnnlib, opts.verifier});
    if (!why.empty()) {
      Location loc;
      loc.file = opts.result;
      return Error(ErrorCode::OutputTarget, "cannot write the result here: " + why, loc);
    }
  }
  return Status::ok();
}




/// The property in runtime terms: outer boxes rounded outward (proofs cover
/// the box as written), inner boxes rounded inward (counterexamples lie in it),
/// both against the decimals as written, not only their nearest doubles.
runtime::Spec toSpec(const frontend::VnnlibProperty &p) {
  runtime::Spec s;
  s.numInputs = p.numInputs;
  s.numOutputs = p.numOutputs;
  for (const frontend::PropertyCase &pc : p.cases) {
    runtime::SpecCase c;
    // pc.lo/hi are the written bounds where the parser says so (exact), else
    // the nearest doubles, within half an ulp of them: one double ulp further
    // out (in) is then certainly outside (inside) the written box, before
    // rounding to f32. A dimension the written box pins to one value that is
    // not an f32 (lo == hi) has no f32 inside it at all; there the inner box
    // keeps the f32 nearest to it for the search, and the counterexample
    // reports (and the float64 gate checks) the double itself, which lies
    // in the written box up to the decimal's parse rounding (less than half
    // a double ulp; docs/soundness.md, "Counterexamples"). The same for any
    // written interval too narrow to hold an f32: its midpoint.
    for (int64_t i = 0; i < p.numInputs; ++i) {
      c.outerLo.push_back(ir::f32Below(pc.loOutside(i)));
      c.outerHi.push_back(ir::f32Above(pc.hiOutside(i)));
      float lo = ir::f32Above(pc.loInside(i));
      float hi = ir::f32Below(pc.hiInside(i));
      if (lo > hi && pc.lo[i] <= pc.hi[i]) {
        double inside = pc.lo[i] == pc.hi[i] ? pc.lo[i] : 0.5 * (pc.lo[i] + pc.hi[i]);
        lo = hi = static_cast<float>(inside);
        if (c.exactInput.empty())
          c.exactInput.assign(p.numInputs, std::numeric_limits<double>::quiet_NaN());
        c.exactInput[i] = inside;
      }
      c.innerLo.push_back(lo);
      c.innerHi.push_back(hi);
    }
    for (const frontend::OutputConjunction &oc : pc.disjuncts) {
      runtime::Conjunction conj;
      conj.rows = static_cast<int64_t>(oc.C.size());
      for (const auto &row : oc.C)
        conj.C.insert(conj.C.end(), row.begin(), row.end());
      // The written threshold is a decimal; unless the parser found it
      // exact, oc.d is the nearest double. One ulp up is above the decimal
      // (refutations cover the property as written), one ulp down below it
      // (counterexamples meet it).
      for (size_t r = 0; r < oc.d.size(); ++r) {
        conj.d.push_back(oc.dAbove(r));
        conj.dSat.push_back(oc.dBelow(r));
      }
      c.disjuncts.push_back(std::move(conj));
    }
    s.cases.push_back(std::move(c));
  }
  return s;
}

Expected<ir::Graph> importChecked(const std::string &path) {
  auto g = frontend::importOnnxFile(path);
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
  return std::move(*g);
}

Expected<ir::Graph> importOptimized(const std::string &path) {
  auto g = importChecked(path);
  if (!g)
    return g.takeError();
  if (auto s = passes::runDefaultPipeline(*g); !s)
    return s.takeError();
  return std::move(*g);
}

/// The independent gate to `sat`: the unoptimised graph (as imported, before
/// any pass) evaluated in float64 by the IR interpreter, every row checked
/// against the counterexample threshold with zero tolerance. Neither gamma's
/// passes nor its compiled kernels take part.
runtime::IndependentCheck float64Check(std::shared_ptr<const ir::Graph> original) {
  return [original](const double *x, const runtime::Conjunction &conj, std::vector<double> &y) {
    const ir::Graph &g = *original;
    int64_t n = g.type(g.inputs[0]).numel();
    auto out = ir::evaluate64(g, {std::vector<double>(x, x + n)}, 1);
    if (!out) {
      // Then no counterexample can be confirmed: say why, once.
      static std::once_flag once;
      std::call_once(once, [&] {
        std::fprintf(stderr, "gamma: note: counterexamples cannot be confirmed: %s\n",
                     out.error().str().c_str());
      });
      return false;
    }
    y = std::move((*out)[0]);
    return conj.metBy(y.data(), static_cast<int64_t>(y.size()));
  };
}

} // namespace

ExitCode runPrepare(const std::string &model) {
  auto t0 = Clock::now();
  auto graph = importOptimized(model);
  if (!graph)
    return fail(graph.error());
  auto k = loadOrCompile(*graph, /*allowJit=*/false);
  if (!k)
    return fail(k.error());
  std::printf("%s %s (%.3f s)\n", k->source == "cache" ? "cached" : "compiled", k->path.c_str(),
              std::chrono::duration<double>(Clock::now() - t0).count());
  return ExitCode::Success;
}

ExitCode runVerify(const VerifyOptions &opts) {
  // The limit counts from process start-up (main), compilation included.
  const Clock::time_point t0 = opts.start;
  if (Status s = checkVerifyOptions(opts); !s)
    return fail(s.error());
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto since = [&](double seconds) {
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  };
  const bool limited = opts.timeout > 0;
  // The search's statistics so far, for an answer the watchdog gives.
  std::mutex progressMutex;
  runtime::BabStats progress;
  Watchdog watchdog(limited, since(std::max(0.0, opts.timeout - kWatchdogMarginSeconds)),
                    [&](runtime::Verdict v, const std::string &why) {
                      runtime::BabResult r;
                      {
                        std::lock_guard<std::mutex> lock(progressMutex);
                        r.stats = progress;
                      }
                      r.verdict = v;
                      r.reason = why;
                      r.cancelled = v == runtime::Verdict::Unknown;
                      r.stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
                      answer(opts, r, {});
                    });

  watchdog.phase("reading the property");
  auto prop = frontend::parseVnnlibFile(opts.vnnlib);
  if (!prop)
    return fail(prop.error());
  watchdog.phase("importing the model");
  auto imported = importChecked(opts.model);
  if (!imported)
    return fail(imported.error());
  auto original = std::make_shared<const ir::Graph>(*imported);
  auto graph = std::move(imported);
  if (auto s = passes::runDefaultPipeline(*graph); !s)
    return fail(s.error());
  watchdog.phase("compiling the model");
  int64_t inSize = graph->type(graph->inputs[0]).numel();
  int64_t outSize = graph->type(graph->outputs[0]).numel();
  if (Status s = checkPropertyFits(*prop, inSize, outSize, opts.vnnlib); !s)
    return fail(s.error());

  // Compiled eval kernels: a gammac library, the cache, or the JIT.
  std::unique_ptr<runtime::VerifierLibrary> library;
  CompiledKernels compiled;
  const gamma_kernel_info *info = nullptr;
  const float *const *weights = nullptr; // the table the kernels take first
  std::string source;
  if (!opts.verifier.empty()) {
    auto lib = runtime::VerifierLibrary::open(opts.verifier);
    if (!lib)
      return fail(lib.error());
    library = std::move(*lib);
    info = library->info();
    weights = library->weights();
    if (Status s = checkLibraryModel(info, graph->sourceDigest, opts.model, opts.verifier); !s)
      return fail(s.error());
    Location loc;
    loc.file = opts.verifier;
    if (info->input_size != inSize || info->output_size != outSize)
      return fail(Error(ErrorCode::VerifierMismatch,
                        "the library's input or output size differs from the model's", loc));
    source = "aot";
  } else {
    // The compile cache (or the JIT alone with --no-cache). A model with an
    // op that has an IR record but no kernels yet (E5005) is searched with
    // the reference interpreter and ir::crown instead: slower, same answers.
    std::optional<Error> unsupported;
    if (opts.noCache) {
      codegen::CodegenOptions copts;
      copts.modelDigest = graph->sourceDigest;
      auto jit = codegen::JitVerifier::compile(*graph, copts);
      if (!jit && jit.error().code() == ErrorCode::KernelUnsupported) {
        unsupported = jit.error();
      } else if (!jit) {
        return fail(jit.error());
      } else {
        compiled.jit = std::move(*jit);
        info = compiled.jit->info();
        weights = compiled.jit->weights();
        source = "jit";
      }
    } else {
      std::string note;
      auto k = loadOrCompile(*graph, /*allowJit=*/true, &note);
      if (!k && k.error().code() == ErrorCode::KernelUnsupported) {
        unsupported = k.error();
      } else if (!k) {
        return fail(k.error());
      } else {
        if (!note.empty())
          std::fprintf(stderr, "gamma: note: %s\n", note.c_str());
        compiled = std::move(*k);
        info = compiled.info;
        weights = compiled.weights;
        source = compiled.source;
      }
    }
    if (unsupported) {
      if (!referenceCrownSupports(*graph))
        return fail(*unsupported);
      std::fprintf(stderr, "gamma: note: %s; searching with the reference interpreter\n",
                   unsupported->str().c_str());
      source = "interp";
    }
  }
  double prepareSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
  watchdog.phase("starting the search");

  // Compiled crown/grad kernels (ReLU and sigmoid networks); the reference
  // CROWN of the IR on request; compiled IBP for a library without crown
  // kernels (built before ABI 2).
  ReferenceEngine reference(*graph, info, weights);
  runtime::KernelEngine kernelEngine(info, weights);
  bool hasCrown = runtime::KernelEngine::hasCrown(info);
  bool useReference = !info || (opts.referenceEngine && referenceCrownSupports(*graph));
  const runtime::BoundEngine &engine =
      useReference ? static_cast<const runtime::BoundEngine &>(reference) : kernelEngine;
  const char *boundsName = useReference ? "crown-reference" : hasCrown ? "crown-kernel" : "ibp-kernel";
  runtime::Spec spec = toSpec(*prop);
  spec.independentCheck = float64Check(original);
  runtime::BabOptions bopts;
  bopts.threads = opts.threads;
  bopts.deterministic = opts.deterministic;
  bopts.seed = opts.seed;
  bopts.batch = std::max<int64_t>(1, opts.batch);
  bopts.lookaheads = opts.lookaheads;
  bopts.splitting = opts.split == "input"        ? runtime::Splitting::Input
                    : opts.split == "activation" ? runtime::Splitting::Activation
                    : opts.split == "both"       ? runtime::Splitting::Both
                                                 : runtime::Splitting::Auto;
  bopts.activationLookahead = opts.activationLookahead;
  bopts.stop.cancel = &gCancel;
  bopts.progress = [&](const runtime::BabStats &st) {
    std::lock_guard<std::mutex> lock(progressMutex);
    progress = st;
  };
  if (limited) {
    // The search stops within a few ms of its deadline; what is left is for
    // writing the answer. The watchdog answers if it does not.
    bopts.stop.hasDeadline = true;
    bopts.stop.deadline = since(std::max(0.0, opts.timeout - kSearchMarginSeconds));
  }
  watchdog.phase("searching", /*searching=*/true);
  runtime::BabResult res = runtime::verify(engine, spec, bopts);
  res.stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  watchdog.claim();
  nlohmann::ordered_json extra;
  extra["prepare_s"] = prepareSeconds;
  extra["kernels"] = source;
  extra["bounds"] = boundsName;
  return answer(opts, res, extra);
}

} // namespace gma::tools

//===- tools/gamma/main.cpp - The gamma command-line tool -----------------===//
//
// `gamma bounds MODEL.onnx --vnnlib PROP.vnnlib [--method ibp] [--json]
//              [--verifier model_verifier.so] [--engine jit|interp]`
// `gamma verify MODEL.onnx PROP.vnnlib [--timeout S] [--result FILE] [--json]
//              [--verifier lib.so] [--threads N] [--deterministic] [--seed N]`
// `gamma prepare MODEL.onnx`   compiles the model into the compile cache.
// `gamma errors`   lists the stable error codes.
//
// A thin driver: parsing options and printing results; the work is in the
// frontend, passes, codegen and runtime libraries.
//
//===----------------------------------------------------------------------===//
#include "generated/Version.h"
#include "support/Diagnostic.h"
#include "tools/gamma/Commands.h"
#include "tools/gamma/ToolSupport.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>
#include <sys/resource.h>
#include <cstdio>
#include <exception>
#include <fmt/format.h>

using namespace gma;
using namespace gma::tools;

namespace {

/// Sets RLIMIT_AS from "N", "NK", "NM" or "NG" (binary units; bytes if none).
Status applyMemoryLimit(const std::string &text) {
  auto bad = [&] {
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("--memory-limit '{}' is not a size such as 4G or 512M", text));
  };
  char *end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (errno || end == text.c_str() || text[0] == '-')
    return bad();
  std::string unit(end);
  unsigned shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : 99;
  if (shift == 99 || n == 0 || n > (~0ull >> shift))
    return bad();
  struct rlimit rl;
  rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(n << shift);
  if (::setrlimit(RLIMIT_AS, &rl) != 0)
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("cannot set --memory-limit {}: {}", text, std::strerror(errno)));
  return Status::ok();
}

} // namespace

int main(int argc, char **argv) {
  const auto start = std::chrono::steady_clock::now();
  CLI::App app{"gamma: a compiler-based neural-network verifier"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gamma " GAMMA_VERSION);

  BoundsOptions bounds;
  CLI::App *b = app.add_subcommand("bounds", "Certified output bounds over a property's input boxes");
  b->add_option("model", bounds.model, "ONNX model")->required();
  b->add_option("--vnnlib", bounds.vnnlib, "VNN-LIB file whose input constraints give the box(es)")
      ->required();
  b->add_option("--method", bounds.method, "Bound method")
      ->check(CLI::IsMember({"ibp", "crown"}))
      ->capture_default_str();
  b->add_option("--engine", bounds.engine,
                "jit: compile in process; interp: the reference IR interpreter")
      ->check(CLI::IsMember({"jit", "interp"}))
      ->capture_default_str();
  b->add_option("--verifier", bounds.verifier, "Use a verifier library compiled by gammac");
  b->add_flag("--json", bounds.json, "Print JSON: {method, lower, upper, time_s, ...}");
  b->add_flag("--lirpa-compatible", bounds.lirpaCompatible,
              "crown: intermediate bounds as auto_LiRPA computes them (looser)");

  VerifyOptions verify;
  verify.start = start;
  CLI::App *v = app.add_subcommand("verify", "Decide a VNN-LIB property: sat, unsat, unknown or timeout");
  v->add_option("model", verify.model, "ONNX model")->required();
  v->add_option("vnnlib", verify.vnnlib, "VNN-LIB property")->required();
  v->add_option("--timeout", verify.timeout,
                "Wall-clock seconds from process start, compilation included (0: none)");
  v->add_option("--result", verify.result, "Write the VNN-COMP result file here");
  v->add_flag("--json", verify.json, "Print JSON: {verdict, time_s, domains, counterexample, ...}");
  v->add_option("--verifier", verify.verifier, "Use a verifier library compiled by gammac");
  v->add_flag("--no-cache", verify.noCache, "JIT-compile in process; do not use the compile cache");
  v->add_flag("--reference-bounds", verify.referenceEngine,
              "Bound with the reference CROWN of the IR instead of compiled crown kernels");
  v->add_option("--threads", verify.threads, "Worker threads (0: all cores)");
  v->add_flag("--deterministic", verify.deterministic,
              "One thread, fixed seeds, FIFO tie-breaks: the same answer every run");
  v->add_option("--seed", verify.seed, "Seed of the attacks")->capture_default_str();
  v->add_option("--batch", verify.batch, "Domains per bound call")->capture_default_str();
  v->add_option("--lookahead", verify.lookaheads,
                "Split rules, comma-separated, one search each in turn: dimensions tried on "
                "both halves per open domain (1: the top-ranked only)")
      ->delimiter(',')
      ->capture_default_str();
  v->add_option("--split", verify.split,
                "What branch and bound splits: input dimensions, the phases of unstable ReLUs "
                "(activation), both side by side, or auto (inputs for up to 64 inputs, else both)")
      ->check(CLI::IsMember({"auto", "input", "activation", "both"}))
      ->capture_default_str();
  v->add_option("--activation-lookahead", verify.activationLookahead,
                "Unstable ReLUs tried in both phases per open domain by the activation search")
      ->capture_default_str();

  std::string prepareModel;
  CLI::App *p = app.add_subcommand("prepare", "Compile a model into the compile cache ahead of time");
  p->add_option("model", prepareModel, "ONNX model")->required();

  std::string memoryLimit;
  for (CLI::App *cmd : {b, v, p})
    cmd->add_option("--memory-limit", memoryLimit,
                    "Address-space limit of the process, e.g. 4G or 512M (default: none); "
                    "exceeding it is error E6004, not a crash");

  app.add_subcommand("errors", "List gamma's error codes")->callback([] {
#define GAMMA_ERROR(Name, Number, Summary) std::printf("E%04d  %s\n", Number, Summary);
#include "support/ErrorCodes.def"
#undef GAMMA_ERROR
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? exitWith(ExitCode::Success) : exitWith(ExitCode::UserError);
  }
  if (!memoryLimit.empty())
    if (Status s = applyMemoryLimit(memoryLimit); !s)
      return exitWith(fail(s.error()));
  auto outOfMemory = [&](const std::string &detail) {
    return Error(ErrorCode::OutOfMemory,
                 fmt::format("out of memory{}{}",
                             memoryLimit.empty() ? "" : " within --memory-limit " + memoryLimit,
                             detail));
  };
  try {
    if (b->parsed())
      return exitWith(runBounds(bounds));
    if (v->parsed())
      return exitWith(runVerify(verify));
    if (p->parsed())
      return exitWith(runPrepare(prepareModel));
    return exitWith(ExitCode::Success);
  } catch (const std::bad_alloc &) {
    return exitWith(fail(outOfMemory("")));
  } catch (const std::system_error &e) {
    // Threads that cannot be created (EAGAIN, ENOMEM) under a memory limit.
    if (e.code() == std::errc::resource_unavailable_try_again ||
        e.code() == std::errc::not_enough_memory)
      return exitWith(fail(outOfMemory(std::string(": ") + e.what())));
    std::fprintf(stderr, "gamma: internal error: %s\n", e.what());
    return exitWith(ExitCode::InternalError);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "gamma: internal error: %s\n", e.what());
    return exitWith(ExitCode::InternalError);
  }
}

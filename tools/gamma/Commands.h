//===- tools/gamma/Commands.h - gamma's subcommands -------------*- C++ -*-===//
#pragma once

#include "tools/common/ExitCode.h"

#include <chrono>
#include <string>
#include <vector>

namespace gma::tools {

struct BoundsOptions {
  std::string model;
  std::string vnnlib;
  std::string method = "ibp";
  std::string engine = "jit"; ///< jit | interp; a --verifier library overrides it.
  std::string verifier;       ///< A library written by gammac.
  bool json = false;
  /// CROWN: replace interval bounds on unstable neurons by CROWN's, as
  /// auto_LiRPA does, instead of intersecting them (looser; for comparisons).
  bool lirpaCompatible = false;
};

/// `gamma bounds`: certified output bounds over a property's input boxes.
ExitCode runBounds(const BoundsOptions &opts);

struct VerifyOptions {
  /// When the process started: the timeout counts from here.
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::string model;
  std::string vnnlib;
  double timeout = 0;   ///< Seconds of wall time from start-up; <= 0: none.
  std::string result;   ///< VNN-COMP result file to write.
  bool json = false;
  std::string verifier; ///< A library written by gammac (else the compile cache).
  bool noCache = false; ///< JIT-compile in process; leave the cache alone.
  int threads = 0;      ///< 0: the hardware's concurrency.
  bool deterministic = false;
  /// Bound with the reference CROWN (ir/Crown) even when compiled crown
  /// kernels exist: slower; for cross-checking.
  bool referenceEngine = false;
  uint64_t seed = 0;
  int64_t batch = 16;   ///< Domains per bound call.
  std::vector<int> lookaheads = {8, 1}; ///< Split rules, one search each (runtime/Bab.h).
  std::string split = "auto";           ///< auto, input, activation or both (runtime::Splitting).
  int activationLookahead = 4;          ///< Neurons tried in both phases per domain.
};

/// `gamma verify`: decides a VNN-LIB property (sat/unsat/unknown/timeout).
ExitCode runVerify(const VerifyOptions &opts);

/// `gamma prepare`: compiles a model into the compile cache ahead of time.
ExitCode runPrepare(const std::string &model);

} // namespace gma::tools

//===- passes/PassManager.h - Running named pass pipelines ------*- C++ -*-===//
//
// Every pass is one row of passes/Passes.def: a free function
// `bool pass(ir::Graph &)` that returns whether it changed the graph, a
// command-line name and a one-line summary. The same table drives gamma-opt's
// flags, pipeline strings and docs/passes.md.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

#include <ostream>
#include <string>
#include <vector>

namespace gma::passes {

using PassFn = bool (*)(ir::Graph &);

struct PassInfo {
  const char *name;    ///< Command-line name: "fuse-affine".
  const char *summary; ///< One sentence.
  PassFn run;
};

/// Every pass, in table order.
const std::vector<PassInfo> &allPasses();
/// The pass called `name`, or nullptr.
const PassInfo *findPass(const std::string &name);

/// The pipeline gammac and gamma use, as a comma-separated list of pass names.
extern const char *const kDefaultPipeline;

/// Parses "a,b,c" into passes; unknown names give a PassUnknown error.
Expected<std::vector<const PassInfo *>> parsePipeline(const std::string &pipeline);

struct PipelineOptions {
  bool verifyEach = false;     ///< Run the IR verifier after every pass (always in debug builds).
  bool printAfterAll = false;  ///< Print the IR after each pass that changed it.
  bool timePasses = false;     ///< Print a timing report at the end.
  std::ostream *log = nullptr; ///< Where printing goes (stderr if null).
  int64_t inlineWeightLimit = 16; ///< For --print-after-all dumps.
};

/// Runs the passes in order. Fails only if verification fails (a bug in a pass:
/// the error says which pass broke which invariant).
Status runPipeline(ir::Graph &g, const std::vector<const PassInfo *> &pipeline,
                   const PipelineOptions &opts = {});

/// Runs kDefaultPipeline.
Status runDefaultPipeline(ir::Graph &g, const PipelineOptions &opts = {});

} // namespace gma::passes

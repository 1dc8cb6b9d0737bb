//===- passes/PassManager.cpp - Running named pass pipelines ---------------===//
//
// The registry is passes/Passes.def expanded once. runPipeline runs passes in
// order and, when asked (and always in builds with assertions), runs the IR
// verifier after each one so that a broken invariant names the pass that broke
// it. Printing and timing follow MLIR's --print-ir-after-all and Halide's
// LoweringLogger: a dump only when a pass changed the graph, and one timing
// table at the end.
//
//===----------------------------------------------------------------------===//
#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/ElideCopies.h"
#include "passes/EliminateDeadCode.h"
#include "passes/FoldConstants.h"
#include "passes/FoldNormalization.h"
#include "passes/FuseAffine.h"
#include "passes/PlanBuffers.h"
#include "passes/PretransposeWeights.h"

#include <chrono>
#include <fmt/format.h>
#include <iostream>

namespace gma::passes {

// The default pipeline, in order:
//   dce                   drop dead ops first: a dead user would make a value look
//                         shared and block the single-use patterns below;
//   fold-constants        evaluate constant sub-graphs (transposed or reshaped
//                         weights) so later passes see plain constants;
//   elide-copies          remove identity ops and no-op reshapes;
//   fuse-affine           matmul + bias add -> affine (exact), merge affine chains;
//   fold-normalization    fold input normalisation (x - m) / s into the first
//                         layer. After fuse-affine, so that the layer's bias is
//                         computed as b' = C - (m/s)·W in one rounding: folding
//                         first and adding C later rounds twice, and when b' is
//                         much smaller than C the second fold's ulp_error
//                         exceeds 64 (test/models/mlp_matmul_norm.onnx does this);
//   fuse-affine           merge the layers that fold-normalization made adjacent;
//   elide-copies          merges reshape chains that the fusions left behind;
//   pretranspose-weights  the kernels read weights as [K, N];
//   dce                   drop the constants the rewrites orphaned;
//   plan-buffers          last: any later rewrite would invalidate the plan.
const char *const kDefaultPipeline =
    "dce,fold-constants,elide-copies,fuse-affine,fold-normalization,fuse-affine,elide-copies,"
    "pretranspose-weights,dce,plan-buffers";

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes = {
#define GAMMA_PASS(Function, Name, Summary) {Name, Summary, &Function},
#include "passes/Passes.def"
#undef GAMMA_PASS
  };
  return passes;
}

const PassInfo *findPass(const std::string &name) {
  for (const PassInfo &p : allPasses())
    if (name == p.name)
      return &p;
  return nullptr;
}

Expected<std::vector<const PassInfo *>> parsePipeline(const std::string &pipeline) {
  std::vector<const PassInfo *> passes;
  size_t pos = 0;
  while (pos <= pipeline.size()) {
    size_t comma = pipeline.find(',', pos);
    std::string name = pipeline.substr(pos, comma == std::string::npos ? comma : comma - pos);
    // Allow spaces around names: "dce, plan-buffers".
    size_t b = name.find_first_not_of(" \t"), e = name.find_last_not_of(" \t");
    name = b == std::string::npos ? "" : name.substr(b, e - b + 1);
    if (name.empty()) {
      if (!pipeline.empty() || comma != std::string::npos)
        return Error(ErrorCode::PassUnknown,
                     fmt::format("empty pass name in pipeline '{}'", pipeline));
    } else if (const PassInfo *p = findPass(name)) {
      passes.push_back(p);
    } else {
      std::string known;
      for (const PassInfo &q : allPasses())
        known += fmt::format("{}{}", known.empty() ? "" : ", ", q.name);
      return Error(ErrorCode::PassUnknown,
                   fmt::format("unknown pass '{}' (known passes: {})", name, known));
    }
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return passes;
}

Status runPipeline(ir::Graph &g, const std::vector<const PassInfo *> &pipeline,
                   const PipelineOptions &opts) {
  std::ostream &log = opts.log ? *opts.log : std::cerr;
#ifdef NDEBUG
  const bool verify = opts.verifyEach;
#else
  const bool verify = true;
#endif
  ir::PrintOptions printOpts;
  printOpts.inlineWeightLimit = opts.inlineWeightLimit;

  using Clock = std::chrono::steady_clock;
  std::vector<double> millis;
  for (const PassInfo *pass : pipeline) {
    auto start = Clock::now();
    bool changed = pass->run(g);
    millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (verify)
      if (Status s = ir::verifyGraph(g); !s)
        return Error(ErrorCode::IrVerify,
                     fmt::format("pass '{}' broke the IR: {}", pass->name, s.error().message()),
                     s.error().location());
    if (opts.printAfterAll && changed) {
      log << "// -----// IR Dump After " << pass->name << " //----- //\n";
      ir::printGraph(g, log, printOpts);
      log << "\n";
    }
  }

  if (opts.timePasses) {
    double total = 0;
    for (double ms : millis)
      total += ms;
    log << "===-------------------------------------------------------------===\n"
        << "                 gamma pass execution timing report\n"
        << "===-------------------------------------------------------------===\n"
        << fmt::format("  Total wall time: {:.4f} ms\n\n", total)
        << fmt::format("  {:>10}  {:>6}  {}\n", "Wall (ms)", "%", "Pass");
    for (size_t i = 0; i < pipeline.size(); ++i)
      log << fmt::format("  {:>10.4f}  {:>5.1f}%  {}\n", millis[i],
                         total > 0 ? 100.0 * millis[i] / total : 0.0, pipeline[i]->name);
    log << fmt::format("  {:>10.4f}  {:>5.1f}%  {}\n", total, 100.0, "Total");
  }
  return Status::ok();
}

Status runDefaultPipeline(ir::Graph &g, const PipelineOptions &opts) {
  auto pipeline = parsePipeline(kDefaultPipeline);
  assert(pipeline && "kDefaultPipeline names an unknown pass");
  return runPipeline(g, *pipeline, opts);
}

} // namespace gma::passes

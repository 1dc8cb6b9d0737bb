//===- codegen/ModuleBuilder.cpp - Graph to optimised llvm::Module --------===//
#include "codegen/ModuleBuilder.h"

#include "codegen/KernelEmitter.h"
#include "codegen/ShareKernels.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <cctype>
#include <fmt/format.h>

namespace gma::codegen {

BuiltModule::BuiltModule() = default;
BuiltModule::BuiltModule(BuiltModule &&) noexcept = default;
BuiltModule::~BuiltModule() = default;

static bool validPrefix(const std::string &p) {
  if (p.empty() || std::isdigit(static_cast<unsigned char>(p[0])))
    return false;
  for (char c : p)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

Expected<BuiltModule> buildOptimizedModule(const ir::Graph &g, const CodegenOptions &opts,
                                           llvm::LLVMContext &ctx, bool libraryEntry) {
  if (!validPrefix(opts.prefix))
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("symbol prefix '{}' is not a C identifier", opts.prefix));
  if (opts.optLevel < 0 || opts.optLevel > 3)
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("optimisation level {} is not in 0..3", opts.optLevel));
  BuiltModule out;
  if (opts.plan) {
    out.plan = opts.plan;
  } else {
    auto plan = buildKernelPlan(g);
    if (!plan)
      return plan.takeError();
    out.plan = std::make_shared<const KernelPlan>(std::move(*plan));
  }
  auto target = resolveTarget(opts.cpu);
  if (!target)
    return target.takeError();
  out.target = std::move(*target);
  auto tm = createTargetMachine(out.target, opts.optLevel);
  if (!tm)
    return tm.takeError();
  out.tm = std::move(*tm);

  EmitterOptions eo;
  eo.prefix = opts.prefix;
  eo.cpu = out.target.cpu;
  eo.features = out.target.features;
  eo.preferVectorWidth = out.target.preferVectorWidth;
  eo.libraryEntry = libraryEntry;
  eo.modelDigest = opts.modelDigest;
  out.module = emitKernelModule(*out.plan, eo, ctx);

  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (llvm::verifyModule(*out.module, &os))
    return Error(ErrorCode::CodegenFailed,
                 "internal error: the emitted LLVM module is invalid: " + os.str());
  parameteriseWeights(*out.module);
  bindWeightTable(*out.module);
  optimizeModule(*out.module, *out.tm, opts.optLevel);
  return out;
}

} // namespace gma::codegen

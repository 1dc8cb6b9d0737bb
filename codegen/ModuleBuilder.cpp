//===- codegen/ModuleBuilder.cpp - Graph to optimised llvm::Module --------===//
#include "codegen/ModuleBuilder.h"

#include "codegen/KernelEmitter.h"
#include "codegen/ShareKernels.h"
#include "codegen/StepRecord.h"
#include "support/Hash.h"

#include <llvm/Bitcode/BitcodeWriter.h>
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

namespace {

/// The common start of buildOptimizedModule and codeDigest: the plan, the
/// target and the unoptimised, verified module (no target machine: the
/// digest of a cache hit needs none).
Expected<BuiltModule> buildModule(const ir::Graph &g, const CodegenOptions &opts,
                                  llvm::LLVMContext &ctx, bool libraryEntry, bool verify = true) {
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

  EmitterOptions eo;
  eo.prefix = opts.prefix;
  eo.cpu = out.target.cpu;
  eo.features = out.target.features;
  eo.preferVectorWidth = out.target.preferVectorWidth;
  eo.libraryEntry = libraryEntry;
  eo.modelDigest = opts.modelDigest;
  eo.modelName = opts.modelName;
  eo.weightsDigest = libraryEntry && opts.writeWeights;
  out.module = emitKernelModule(*out.plan, eo, ctx);

  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (verify && llvm::verifyModule(*out.module, &os))
    return Error(ErrorCode::CodegenFailed,
                 "internal error: the emitted LLVM module is invalid: " + os.str());
  return out;
}

} // namespace

Expected<BuiltModule> buildPreparedModule(const ir::Graph &g, const CodegenOptions &opts,
                                          llvm::LLVMContext &ctx, bool libraryEntry) {
  auto out = buildModule(g, opts, ctx, libraryEntry);
  if (!out)
    return out;
  parameteriseWeights(*out->module);
  bindWeightTable(*out->module);
  mergeFunctions(*out->module);
  return out;
}

Expected<BuiltModule> buildOptimizedModule(const ir::Graph &g, const CodegenOptions &opts,
                                           llvm::LLVMContext &ctx, bool libraryEntry) {
  auto out = buildPreparedModule(g, opts, ctx, libraryEntry);
  if (!out)
    return out;
  auto tm = createTargetMachine(out->target, opts.optLevel);
  if (!tm)
    return tm.takeError();
  out->tm = std::move(*tm);
  optimizeModule(*out->module, *out->tm, opts.optLevel, wantsSlpVectorizer(*out->plan));
  return out;
}

Expected<std::string> codeDigest(const ir::Graph &g, const CodegenOptions &opts) {
  CodegenOptions o = opts;
  o.modelDigest.clear();
  o.writeWeights = false;
  llvm::LLVMContext ctx;
  // Not verified here: a compile verifies the same module.
  auto built = buildModule(g, o, ctx, /*libraryEntry=*/true, /*verify=*/false);
  if (!built)
    return built.takeError();
  llvm::SmallVector<char, 0> bitcode;
  llvm::BitcodeWriter writer(bitcode);
  writer.writeModule(*built->module);
  writer.writeStrtab();
  return support::digestHex(bitcode.data(), bitcode.size());
}

} // namespace gma::codegen

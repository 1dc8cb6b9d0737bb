//===- codegen/TargetSetup.cpp - Host target and optimisation -------------===//
//
// See TargetSetup.h.
//
//===----------------------------------------------------------------------===//
#include "codegen/TargetSetup.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/Transforms/IPO/MergeFunctions.h>
#include <llvm/TargetParser/Host.h>

#include <fmt/format.h>
#include <llvm/Support/CommandLine.h>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace gma::codegen {

using namespace llvm;

void initializeLlvmTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
    // Loop strength reduction takes ~80% of the back end's time on gamma's
    // kernels (a loop nest with dozens of address computations per
    // iteration makes its formula search explode) and buys nothing
    // measurable on x86, whose addressing modes fold the same arithmetic
    // (docs/benchmarks.md, "Compile time"). LLVM offers only its
    // command-line switch for this.
    auto &options = cl::getRegisteredOptions();
    if (auto it = options.find("disable-lsr"); it != options.end())
      it->second->addOccurrence(0, "disable-lsr", "true");
    // Developers' switch for LLVM's own options (e.g. GAMMA_LLVM_ARGS=-time-passes
    // to see where compile time goes; docs/benchmarks.md). Not for users.
    if (std::getenv("GAMMA_LLVM_ARGS")) {
      const char *argv[] = {"gamma"};
      cl::ParseCommandLineOptions(1, argv, "", nullptr, "GAMMA_LLVM_ARGS");
    }
  });
}

Expected<TargetDesc> resolveTarget(const std::string &cpu) {
  initializeLlvmTargets();
  TargetDesc t;
  t.triple = sys::getProcessTriple();
  if (cpu.empty() || cpu == "native") {
    t.cpu = sys::getHostCPUName().str();
    std::string features;
    for (const auto &f : sys::getHostCPUFeatures()) {
      if (!features.empty())
        features += ",";
      features += (f.second ? "+" : "-") + f.first().str();
    }
    t.features = features;
    if (sys::getHostCPUFeatures().lookup("avx512f"))
      t.preferVectorWidth = 512;
  } else {
    t.cpu = cpu;
  }
  std::string err;
  const Target *target = TargetRegistry::lookupTarget(t.triple, err);
  if (!target)
    return Error(ErrorCode::CodegenFailed, fmt::format("no LLVM target for '{}': {}", t.triple, err));
  // Validate the name with a generic subtarget first: creating one for an
  // unknown CPU makes LLVM print a warning of its own.
  std::unique_ptr<MCSubtargetInfo> generic(target->createMCSubtargetInfo(t.triple, "", ""));
  if (!generic || !generic->isCPUStringValid(t.cpu))
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("unknown CPU '{}' for target '{}'", t.cpu, t.triple));
  std::unique_ptr<MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(t.triple, t.cpu, t.features));
  if (t.preferVectorWidth == 0 && sti->checkFeatures("+avx512f"))
    t.preferVectorWidth = 512;
  return t;
}

static CodeGenOptLevel codeGenLevel(int optLevel) {
  switch (optLevel) {
  case 0: return CodeGenOptLevel::None;
  case 1: return CodeGenOptLevel::Less;
  case 2: return CodeGenOptLevel::Default;
  default: return CodeGenOptLevel::Aggressive;
  }
}

Expected<std::unique_ptr<TargetMachine>> createTargetMachine(const TargetDesc &t, int optLevel) {
  initializeLlvmTargets();
  std::string err;
  const Target *target = TargetRegistry::lookupTarget(t.triple, err);
  if (!target)
    return Error(ErrorCode::CodegenFailed, fmt::format("no LLVM target for '{}': {}", t.triple, err));
  TargetOptions options;
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      t.triple, t.cpu, t.features, options, Reloc::PIC_, std::nullopt, codeGenLevel(optLevel)));
  if (!tm)
    return Error(ErrorCode::CodegenFailed,
                 fmt::format("cannot create a target machine for '{}' ({})", t.triple, t.cpu));
  return tm;
}

void mergeFunctions(Module &m) {
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  ModulePassManager mpm;
  mpm.addPass(MergeFunctionsPass());
  mpm.run(m, mam);
}

void optimizeModule(Module &m, TargetMachine &tm, int optLevel, bool slp) {
  m.setTargetTriple(tm.getTargetTriple().str());
  m.setDataLayout(tm.createDataLayout());

  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PipelineTuningOptions pto;
  pto.LoopVectorization = optLevel >= 2;
  pto.SLPVectorization = optLevel >= 2 && slp;
  // Loops carrying `llvm.loop.unroll.disable` (LoopHint::Auto on a loop with
  // a loop inside, codegen/IrHelpers.h) stay rolled whatever this says.
  pto.LoopUnrolling = optLevel >= 2;
  // Standard instrumentations make LLVM's own developer options work on this
  // pipeline (GAMMA_LLVM_ARGS=-time-passes, -print-after=...).
  PassInstrumentationCallbacks pic;
  StandardInstrumentations si(m.getContext(), /*DebugLogging=*/false);
  si.registerCallbacks(pic, &mam);
  PassBuilder pb(&tm, pto, std::nullopt, &pic);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);

  OptimizationLevel level = optLevel <= 0   ? OptimizationLevel::O0
                            : optLevel == 1 ? OptimizationLevel::O1
                            : optLevel == 2 ? OptimizationLevel::O2
                                            : OptimizationLevel::O3;
  // MergeFunctions ran on the whole module before (mergeFunctions, called
  // by ModuleBuilder's buildPreparedModule): a part of it has no copies left.
  ModulePassManager mpm;
  // Developers' switch (docs/benchmarks.md, "Compile time"): a new-PM
  // pipeline string instead of the -O pipeline, to measure pass lists. A
  // string LLVM cannot parse is reported and the -O pipeline runs.
  if (const char *pipe = std::getenv("GAMMA_LLVM_PIPELINE"); pipe && *pipe) {
    ModulePassManager custom;
    if (auto err = pb.parsePassPipeline(custom, pipe)) {
      std::fprintf(stderr, "gamma: warning: GAMMA_LLVM_PIPELINE ignored: %s\n",
                   toString(std::move(err)).c_str());
    } else {
      mpm.addPass(std::move(custom));
      mpm.run(m, mam);
      return;
    }
  }
  mpm.addPass(level == OptimizationLevel::O0 ? pb.buildO0DefaultPipeline(level)
                                             : pb.buildPerModuleDefaultPipeline(level));
  mpm.run(m, mam);
}

} // namespace gma::codegen

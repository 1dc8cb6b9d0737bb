//===- codegen/TargetSetup.h - Host target and optimisation -----*- C++ -*-===//
//
// Internal to codegen/: resolves `--mcpu` ("native" = the host's CPU name and
// feature list), creates the llvm::TargetMachine used by both the AOT and the
// JIT paths, and runs LLVM's default new-pass-manager pipeline (O0..O3) with
// that machine's cost model, so the loop and SLP vectorizers target the host's
// vector width.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"

#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace gma::codegen {

/// Registers the native target, asm printer and parser once per process.
void initializeLlvmTargets();

struct TargetDesc {
  std::string triple;
  std::string cpu;
  std::string features; ///< "+avx2,+avx512f,..."
  /// "prefer-vector-width" to put on kernels: 512 when AVX-512 is available
  /// (LLVM's x86 tuning otherwise prefers 256-bit vectors), else 0.
  int preferVectorWidth = 0;
};

/// `cpu` = "native" (or empty) gives the host; any other name is passed to
/// LLVM as is, with that CPU's default features.
Expected<TargetDesc> resolveTarget(const std::string &cpu);

/// Position-independent code, so objects can go into shared libraries.
Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(const TargetDesc &t,
                                                                   int optLevel);

/// LLVM's MergeFunctions on `m`: one copy of each function body (the layer
/// functions of one shape, codegen/ShareKernels.h), before anything else
/// spends time on the copies. Run it before optimizeModule, on the whole
/// module (ModuleBuilder.cpp's buildPreparedModule).
void mergeFunctions(llvm::Module &m);

/// Sets the module's triple and data layout and runs the default pipeline;
/// from -O2 with the loop vectorizer, and with the SLP vectorizer if `slp`
/// (StepRecord::wantsSlpVectorizer).
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, int optLevel, bool slp = true);

} // namespace gma::codegen

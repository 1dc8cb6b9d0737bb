//===- codegen/ModuleBuilder.h - Graph to optimised llvm::Module -*- C++ -*-===//
//
// Internal to codegen/: the common front half of the AOT and JIT paths.
//   buildKernelPlan -> resolveTarget -> emitKernelModule -> verifyModule
//   -> optimizeModule (O0..O3 for the chosen CPU).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Compiler.h"
#include "codegen/KernelPlan.h"
#include "codegen/TargetSetup.h"

#include <memory>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace gma::codegen {

struct BuiltModule {
  std::shared_ptr<const KernelPlan> plan;
  TargetDesc target;
  std::unique_ptr<llvm::TargetMachine> tm;
  std::unique_ptr<llvm::Module> module;

  BuiltModule();
  BuiltModule(BuiltModule &&) noexcept;
  ~BuiltModule();
};

/// `libraryEntry`: also define gamma_verifier_info (shared libraries).
Expected<BuiltModule> buildOptimizedModule(const ir::Graph &g, const CodegenOptions &opts,
                                           llvm::LLVMContext &ctx, bool libraryEntry);

} // namespace gma::codegen

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
#include <string>
#include <vector>

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

/// The module before the -O pipeline: emitted, verified, its weights
/// parameterised and bound to the weight table, layer copies merged. No
/// target machine.
Expected<BuiltModule> buildPreparedModule(const ir::Graph &g, const CodegenOptions &opts,
                                          llvm::LLVMContext &ctx, bool libraryEntry);

/// Parts the module is compiled in (codegen/SplitCompile.cpp): fixed, so
/// that the code does not depend on the machine's core count.
inline constexpr unsigned kCompileParts = 2;

struct CompiledObjects {
  std::shared_ptr<const KernelPlan> plan;
  TargetDesc target;
  /// Object files (ELF bytes) that together define the kernels, linked or
  /// loaded together (with the scalar-relaxation object).
  std::vector<std::string> objects;
};

/// buildOptimizedModule and machine code, in kCompileParts parts compiled
/// on up to as many cores (codegen/SplitCompile.cpp).
Expected<CompiledObjects> compileObjects(const ir::Graph &g, const CodegenOptions &opts,
                                         bool libraryEntry);

} // namespace gma::codegen

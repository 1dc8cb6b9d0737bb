//===- codegen/KernelEmitter.h - KernelPlan to llvm::Module -----*- C++ -*-===//
//
// Internal to codegen/. `emitKernelModule` builds one llvm::Module per model:
//   <prefix>_eval, <prefix>_ibp   the C-ABI kernels of runtime/KernelAbi.h;
//   <prefix>_info                 returns the gamma_kernel_info descriptor;
//   gamma_verifier_info           the same, for shared libraries only;
//   one internal function per step (`<prefix>_eval.affine_3`, ...) whose
//   pointer parameters are `noalias`: the buffer plan guarantees that an op's
//   result and operands are disjoint or identical (in place, passed once), and
//   the inliner turns the attributes into scoped alias metadata, so the
//   vectorizer needs no run-time overlap checks.
// The affine steps are in AffineEmitter.cpp, everything else in
// KernelEmitter.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/KernelPlan.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace llvm {
class Function;
class GlobalVariable;
class LLVMContext;
class Module;
} // namespace llvm

namespace gma::codegen {

struct EmitterOptions {
  std::string prefix = "gamma_model";
  /// Function attributes "target-cpu" / "target-features" (empty: none).
  std::string cpu, features;
  /// "prefer-vector-width" (0: the target's default).
  int preferVectorWidth = 0;
  /// Also define `gamma_verifier_info` (shared libraries).
  bool libraryEntry = false;
  uint64_t modelHash = 0;
};

/// Builds the unoptimised module. Never fails: the plan was validated.
std::unique_ptr<llvm::Module> emitKernelModule(const KernelPlan &plan, const EmitterOptions &opts,
                                               llvm::LLVMContext &ctx);

/// Private constant f32 arrays (aligned 64), one per distinct ConstData.
class ConstantPool {
public:
  explicit ConstantPool(llvm::Module &m) : m_(m) {}
  llvm::GlobalVariable *get(const ConstData &c, const std::string &name);

private:
  llvm::Module &m_;
  std::map<std::pair<const float *, int64_t>, llvm::GlobalVariable *> cache_;
};

/// `internal void name(ptr noalias × numPtrs, i64 batch)`, nounwind, with an
/// entry block.
llvm::Function *createStepFunction(llvm::Module &m, const std::string &name, unsigned numPtrs);

/// Affine step of eval: (x, y, B).
llvm::Function *emitAffineEval(llvm::Module &m, ConstantPool &pool, const Step &s,
                               const std::string &name);
/// Affine step of ibp: (xlo, xhi, ylo, yhi, B).
llvm::Function *emitAffineIbp(llvm::Module &m, ConstantPool &pool, const Step &s,
                              const std::string &name);

} // namespace gma::codegen

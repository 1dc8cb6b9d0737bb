//===- codegen/KernelEmitter.h - KernelPlan to llvm::Module -----*- C++ -*-===//
//
// Internal to codegen/. `emitKernelModule` builds one llvm::Module per model:
//   <prefix>_eval, <prefix>_ibp   the C-ABI kernels of abi/KernelAbi.h;
//   <prefix>_info                 returns the gamma_kernel_info descriptor;
//   gamma_verifier_info           the same, for shared libraries only;
//   one internal function per step (`<prefix>_eval.affine_3`, ...) whose
//   pointer parameters are `noalias`: the buffer plan guarantees that an op's
//   result and operands are disjoint or identical (in place, passed once), and
//   the inliner turns the attributes into scoped alias metadata, so the
//   vectorizer needs no run-time overlap checks.
// What each step kind emits is its record's (codegen/StepRecord.h): affine
// steps are in AffineEmitter.cpp, conv in ConvEmitter.cpp, the elementwise
// rules here, the crown and grad kernels in CrownEmitter.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/CrownLayout.h"
#include "codegen/KernelPlan.h"

#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <llvm/ADT/ArrayRef.h>

namespace llvm {
class Type;
class Function;
class FunctionCallee;
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
  std::string modelDigest;
  /// The descriptor's model_name; unset: the plan's.
  std::optional<std::string> modelName;
  /// Record the BLAKE3 digest of the library's .weights file (a library
  /// shipped with one). A compile-cache entry records none: it is bound to
  /// the graph's own weights at load, and its code must not depend on them.
  bool weightsDigest = false;
};

/// The distinct buffers a step touches, and for each role (operand i, result)
/// its index in that list: in-place operands are passed once, so `noalias`
/// holds.
struct StepBuffers {
  std::vector<BufferRef> unique;
  std::vector<unsigned> inIdx;
  unsigned outIdx = 0;
};

/// Builds the unoptimised module. Never fails: the plan was validated.
std::unique_ptr<llvm::Module> emitKernelModule(const KernelPlan &plan, const EmitterOptions &opts,
                                               llvm::LLVMContext &ctx);

/// The weights the emitters read, as placeholders: one internal global
/// `[n x float]` per entry of the plan's weight table, with no data (a zero
/// initialiser) and `!gamma.weight !{i64 index}` metadata. parameteriseWeights
/// turns them into parameters of the step functions and bindWeightTable into
/// loads from the external kernels' `weights` parameter, before any
/// optimisation could read the placeholder's zeros. Weight values never enter
/// the module: its size and compile time do not grow with them.
class ConstantPool {
public:
  ConstantPool(llvm::Module &m, const KernelPlan &plan) : m_(m), plan_(plan) {}
  /// `c` must be one of the plan's steps' constants.
  llvm::GlobalVariable *get(const ConstData &c, const std::string &name);

private:
  llvm::Module &m_;
  const KernelPlan &plan_;
  std::map<int64_t, llvm::GlobalVariable *> cache_;
};

/// libm's `double exp(double)`, declared as with -fno-math-errno (nounwind,
/// no memory access). Kernels call libm, not llvm.exp, so that they compute
/// what ir/ computes with std::exp.
llvm::FunctionCallee declareExpF64(llvm::Module &m);
/// A libm-like function `ret name(args...)` that neither unwinds nor touches
/// memory (how declareExpF64 declares exp).
llvm::FunctionCallee declarePure(llvm::Module &m, const char *name, llvm::Type *ret,
                                 llvm::ArrayRef<llvm::Type *> args);
/// `double name(i32 fn, double x)` of abi/ScalarRelax.h (gamma_scalar_value,
/// gamma_scalar_slope): pure, hidden, resolved against the linked object.
llvm::FunctionCallee declareScalarTableFn(llvm::Module &m, const char *name);

/// `internal i1 <prefix>.fpenv_ok()`: whether the floating-point environment
/// at the call is the one docs/soundness.md assumes (round to nearest, no
/// flush-to-zero, no denormals-are-zero): probes in constrained (strictfp)
/// arithmetic on volatile loads, so that nothing folds them. The ibp and
/// crown entries call it once per call and return infinite bounds when it
/// fails (sound, never wrong). One definition per module.
llvm::Function *fpEnvironmentCheck(llvm::Module &m, const std::string &prefix);

/// `internal void name(ptr noalias × numPtrs, i64 batch)`, nounwind, with an
/// entry block.
llvm::Function *createStepFunction(llvm::Module &m, const std::string &name, unsigned numPtrs);

/// Affine step of eval: (x, y, B).
llvm::Function *emitAffineEval(llvm::Module &m, ConstantPool &pool, const Step &s,
                               const std::string &name);
/// Affine step of ibp: (xlo, xhi, ylo, yhi, B).
llvm::Function *emitAffineIbp(llvm::Module &m, ConstantPool &pool, const Step &s,
                              const std::string &name);

/// The ibp function of step `s` whose buffers are `sb` (affine: (xlo, xhi,
/// ylo, yhi, B); elementwise: lo and hi of each of sb.unique, then B).
using IbpStepFactory = std::function<llvm::Function *(const Step &s, const StepBuffers &sb)>;

struct CrownFunctions {
  llvm::Function *crown = nullptr; ///< gamma_crown_fn, <prefix>_crown
  llvm::Function *grad = nullptr;  ///< gamma_grad_fn, <prefix>_grad
};

/// Emits the crown and grad kernels (CrownEmitter.cpp); `lay.supported` must
/// hold. The crown kernel's forward interval pass calls the ibp step
/// functions of `ibpStep` on the scratch's bound slots; the grad kernel's
/// forward pass calls the eval step functions of `evalStep` (one plane per
/// buffer) on the lo slots.
CrownFunctions emitCrownKernels(llvm::Module &m, ConstantPool &pool, const KernelPlan &plan,
                                const CrownLayout &lay, const std::string &prefix,
                                const IbpStepFactory &ibpStep, const IbpStepFactory &evalStep);

} // namespace gma::codegen

//===- codegen/StepRecord.h - What codegen knows about a step kind -*- C++ -*-===//
//
// The codegen side of ir/OpRecord.h: one record per StepKind (codegen/Steps.def)
// holds everything the plan, the CROWN layout and the emitters need to know
// about that kind, so that no emitter switches on the kind:
//   - the kernels' step functions: whole-step emitters (affine, conv, copy,
//     x ± y), or the scalar rules of an elementwise step that the one
//     elementwise loop of KernelEmitter.cpp runs (relu, sigmoid, neg, x op C);
//   - the CROWN kernels' backward rule and what it reads: the relaxation
//     (whose input bounds the forward pass tightens first), whether the rule
//     takes its operand's bounds, its temporaries, the terms it adds per Λ
//     coefficient (the fan-in charge, docs/soundness.md).
// A kind without a backward rule still gets eval and ibp kernels; a plan with
// one has no crown/grad kernels (gamma_kernel_info::crown is NULL, and gamma
// bounds with ir::crown instead).
//
// Adding a step kind: a GAMMA_STEP line, its record in StepRecords.cpp and
// its emitter functions, and the lowering of its ops in KernelPlan.cpp.
//
// Internal to codegen/. LLVM types appear in the hooks' signatures only.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/KernelPlan.h"

#include <cstdint>
#include <string>
#include <utility>

// Declarations only, so that the plan (KernelPlan.cpp) reads the records
// without LLVM's headers.
namespace llvm {
class Function;
class Module;
class Value;
class ConstantFolder;
class IRBuilderDefaultInserter;
template <typename FolderTy, typename InserterTy> class IRBuilder;
} // namespace llvm

namespace gma::codegen {

class ConstantPool;
class CrownEmitter;
struct StepBuffers;
/// llvm::IRBuilder<> (its default template arguments, spelled out).
using Builder = llvm::IRBuilder<llvm::ConstantFolder, llvm::IRBuilderDefaultInserter>;

/// Crown: the adaptive lower ReLU slope a = [u > -l]; CrownParallel: a = u/(u - l),
/// parallel to the upper line (another sound choice, better on some boxes:
/// the final pass runs with both and keeps the larger bound); Grad: gradients.
enum class CrownMode { Crown, CrownParallel, Grad };

/// What a whole-step emitter may use.
struct StepEmitContext {
  llvm::Module &m;
  ConstantPool &pool;
};

/// Which neurons of a relaxed step's input the forward pass of the crown
/// kernel tightens by CROWN before the step: none (a linear step), the
/// unstable ones (l < 0 < u: ReLU is exact elsewhere), or all (sigmoid: every
/// relaxation depends on the bounds).
enum class Relaxation { None, UnstableNeurons, AllNeurons };

/// A step function `name`; the eval kernel passes one plane per buffer, ibp
/// two (lo, hi). Buffers: fixedOperands ? (in, out) : each of sb.unique once.
using StepFunctionHook = llvm::Function *(*)(StepEmitContext &ctx, const Step &s,
                                             const StepBuffers &sb, const std::string &name);
/// y = f(x) (in f32) of an elementwise step; `c` is its broadcast constant
/// element or null.
using ScalarEvalHook = llvm::Value *(*)(Builder &b, const Step &s, llvm::Value *x,
                                        llvm::Value *c);
/// [lo', hi'] (f32, outward) of an elementwise step on [lo, hi].
using ScalarIntervalHook = std::pair<llvm::Value *, llvm::Value *> (*)(
    Builder &b, const Step &s, llvm::Value *lo, llvm::Value *hi, llvm::Value *c);
/// The backward rule of `s` in `mode` (CrownEmitter.cpp documents the
/// arguments of each kind's function).
using CrownRuleHook = llvm::Function *(*)(CrownEmitter &e, const Step &s, CrownMode mode,
                                          const std::string &name);

struct StepRecord {
  StepKind kind;
  const char *name;

  // --- eval and ibp kernels ---------------------------------------------
  /// The step function takes (in, out) in that order and never runs in place
  /// (the plan checks it); otherwise it takes each distinct buffer once and
  /// may run in place.
  bool fixedOperands = false;
  /// Whole-step emitters, or null for an elementwise step run by the scalar
  /// rules below.
  StepFunctionHook eval = nullptr, ibp = nullptr;
  ScalarEvalHook scalarEval = nullptr;
  ScalarIntervalHook scalarInterval = nullptr;
  /// The step's loops leave straight-line code that only LLVM's SLP
  /// vectorizer widens (conv's fully unrolled taps: its IBP kernel is ~10%
  /// slower without). A module whose steps all say no is optimised without
  /// the SLP vectorizer, which then costs compile time and no measured speed
  /// (docs/benchmarks.md, "Compile time").
  bool wantsSlpVectorizer = false;

  // --- crown and grad kernels -------------------------------------------
  /// Null: no CROWN rule in the kernels (a plan with this step gets none).
  CrownRuleHook crownRule = nullptr;
  Relaxation relaxation = Relaxation::None;
  /// The rule reads its operand's interval bounds in every mode (not only to
  /// charge a fan-in).
  bool ruleTakesBounds = false;
  /// The rule differs between CrownMode::Crown and CrownParallel.
  bool parallelVariant = false;
  /// The crown-mode rule takes, after its operand's bounds, the pointer to
  /// the caller's lower slopes of its operand (or null: the adaptive slope);
  /// its operand is a GAMMA_RELAXED_PIECEWISE value (abi/KernelAbi.def).
  bool takesLowerSlopes = false;
  /// The rule takes (c, err, tmp) and the bounds (lo, hi) of every distinct
  /// operand (grad: their values, lo twice), as a charged linear rule does.
  bool ruleTakesOperandBounds = false;
  /// Terms the rule adds into each coefficient of the Λ of operand `k`
  /// (a position in Step::inValues; null: 1).
  int64_t (*termsPerOperand)(const Step &s, size_t k) = nullptr;
  /// Doubles of the shared temporary area the rule uses (null: none).
  int64_t (*crownTmpDoubles)(const Step &s) = nullptr;

  bool relaxed() const { return relaxation != Relaxation::None; }
  int64_t terms(const Step &s, size_t k) const {
    return termsPerOperand ? termsPerOperand(s, k) : 1;
  }
  int64_t tmpDoubles(const Step &s) const { return crownTmpDoubles ? crownTmpDoubles(s) : 0; }
};

/// The record of `kind`; every kind has one (StepRecordTest checks it).
const StepRecord &stepRecord(StepKind kind);
inline const StepRecord &stepRecord(const Step &s) { return stepRecord(s.kind); }

/// Whether any step of `plan` wantsSlpVectorizer.
bool wantsSlpVectorizer(const KernelPlan &plan);

} // namespace gma::codegen

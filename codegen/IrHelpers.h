//===- codegen/IrHelpers.h - Loops and outward rounding in LLVM IR -*- C++ -*-===//
//
// Small IRBuilder helpers shared by the kernel emitters (internal to codegen/,
// so LLVM headers are fine here):
// - counted loops in the canonical shape LLVM's loop passes expect;
// - `roundDown`/`roundUp`: ir/Rounding.h in IR, branch-free so that the loop
//   vectorizer can widen them: fptrunc to f32, compare after fpext against the
//   slack-widened double, step one f32 ulp through the integer bits, NaN to
//   the infinity on its side.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <cstdint>
#include <functional>

namespace gma::codegen {

using LoopBody = std::function<void(llvm::IRBuilder<> &, llvm::Value *iv)>;

/// Whether LLVM may unroll a loop. Unrolling outer loops multiplies the code
/// (an MLP's compile time doubled) for no speed the kernels show; unrolling
/// innermost loops (full unrolling of a short vectorised loop) makes the
/// crown kernel 1.3-1.5x faster, and a conv's tap and tile loops run 2-3x
/// faster unrolled (docs/benchmarks.md, "Compile time").
enum class LoopHint {
  /// Innermost loops: LLVM's heuristics decide; loops with a loop inside:
  /// `llvm.loop.unroll.disable` (the vectorizer still widens them).
  Auto,
  /// LLVM's heuristics decide, whatever the loop contains.
  Unroll,
  /// Neither vectorised nor unrolled: O(n) bookkeeping next to O(n²) work,
  /// where the vectorizer's code would only cost compile time.
  Scalar,
};

/// `for (iv = begin; iv < end; iv += step) body(iv)` with i64 induction;
/// leaves the builder after the loop. Names the blocks after `name`.
void emitLoop(llvm::IRBuilder<> &b, llvm::Value *begin, llvm::Value *end, int64_t step,
              const char *name, const LoopBody &body, LoopHint hint = LoopHint::Auto);
/// Shorthand for a loop from 0 to a constant.
void emitLoop(llvm::IRBuilder<> &b, int64_t end, const char *name, const LoopBody &body,
              LoopHint hint = LoopHint::Auto);

/// An f32 <= every real within slack·2^-53·|d| of the double `d`; NaN -> -inf.
llvm::Value *roundDown(llvm::IRBuilder<> &b, llvm::Value *d, double slack = 2.0);
/// An f32 >= every real within slack·2^-53·|d| of the double `d`; NaN -> +inf.
llvm::Value *roundUp(llvm::IRBuilder<> &b, llvm::Value *d, double slack = 2.0);

/// `base + index` as a float pointer (index in floats).
llvm::Value *floatPtr(llvm::IRBuilder<> &b, llvm::Value *base, llvm::Value *index);
llvm::Value *loadF32(llvm::IRBuilder<> &b, llvm::Value *base, llvm::Value *index);
void storeF32(llvm::IRBuilder<> &b, llvm::Value *v, llvm::Value *base, llvm::Value *index);
llvm::Value *toDouble(llvm::IRBuilder<> &b, llvm::Value *f);
/// Entry `at + j` of an int32 index table (a gather step's, stored in f32
/// slots), sign-extended to i64.
llvm::Value *loadIndex(llvm::IRBuilder<> &b, llvm::Value *table, int64_t at, llvm::Value *j);
llvm::Value *i64(llvm::IRBuilder<> &b, int64_t v);

} // namespace gma::codegen

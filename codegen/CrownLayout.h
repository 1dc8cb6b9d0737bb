//===- codegen/CrownLayout.h - Scratch layout of the CROWN kernels -*- C++ -*-===//
//
// Internal to codegen/ (no LLVM): everything the crown and grad kernels need
// to know about a plan before any IR is emitted, and what the descriptor and
// the generated header report.
//
// Per sample (box), the scratch slice holds
//   [bounds]  f32 lo and hi of every value the steps produce (the input's
//             bounds are the caller's box), kept for the whole call: the
//             backward passes read the bounds of every value they cross;
//   [tmp]     per-rule temporaries in double (ReLU and sigmoid relaxations,
//             the magnitudes q = |W|ᵀ·max(|l|, |u|) of an affine rule);
//   [idx]     i64 indices of the neurons being tightened (a ReLU input's
//             unstable ones, all of a sigmoid input's);
//   [flags]   16 floats: at 0, an i64 count of the relaxed neurons whose
//             interval the caller's bounds_in left empty;
//   [dyn]     rows-scaled doubles: c[rows], err[rows], lower[rows], then the
//             coefficient matrices Λ (rows × numel) of the values a backward
//             pass crosses, at offsets `lamOffset · rows` chosen by a liveness
//             scan, so a chain of layers needs only two Λ at a time.
// The intermediate passes (rows = 2 × unstable neurons ≤ 2 × width) fit in
// the fixed part; the final pass over the caller's `rows` specification rows
// takes `perRow · rows` more floats.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/KernelPlan.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gma::codegen {

/// One backward pass: from the Λ of `target` to the input.
struct CrownPass {
  int32_t target = -1;
  /// Step indices in backward (reverse schedule) order.
  std::vector<int> steps;
  /// bornAt[p]: values whose Λ must be zeroed before position p runs
  /// (p = steps.size(): before the concretisation at the input).
  std::vector<std::vector<int32_t>> bornAt;
  /// Per value number: offset of its Λ in doubles per row, -1 if not crossed.
  std::vector<int64_t> lamOffset;
  int64_t peak = 0; ///< Doubles per row of all Λ live at once.
};

/// Budgets past which a model gets no crown/grad kernels (computeCrownLayout).
constexpr int64_t kMaxCrownPassSteps = 20000;
constexpr int64_t kMaxCrownScratchFloats = int64_t(1) << 30; // 4 GB per box

struct CrownLayout {
  bool supported = false;
  std::string unsupportedReason; ///< Why not, when !supported.

  std::vector<int64_t> numel;     ///< Per value number.
  std::vector<int64_t> boundsOff; ///< Per value number: floats (lo; hi at +numel); -1: none.
  std::vector<int> producer;      ///< Per value number: producing step, -1 for the input.
  int64_t tmpOff = 0, tmpDoubles = 0;
  int64_t idxOff = 0;
  int64_t flagOff = 0;
  int64_t dynOff = 0;

  /// The relaxed values (operands of relaxed steps other than the input;
  /// gamma_kernel_info::relaxed_*), in schedule order of their first relaxed
  /// consumer, with the start of each in a per-box slopes array (bounds
  /// arrays: twice that), its GAMMA_RELAXED_* bits and the sum of the sizes.
  std::vector<int32_t> relaxed;
  std::vector<int64_t> relaxedOff;
  std::vector<int32_t> relaxedKinds;
  int64_t relaxedFloats = 0;

  /// Passes that tighten ReLU and sigmoid inputs, by target value number.
  std::map<int32_t, CrownPass> intermediate;
  /// The pass from the output to the input (crown's final pass and grad).
  CrownPass final;

  /// Scratch floats per sample: crown base + perRow · rows, grad gradFloats.
  /// All multiples of 16 (64-byte slices).
  int64_t scratchBase = 0, scratchPerRow = 0, gradFloats = 0;
};

/// Never fails; `supported` is false past kMaxCrownPassSteps or
/// kMaxCrownScratchFloats (every step kind of KernelPlan has a CROWN rule).
CrownLayout computeCrownLayout(const KernelPlan &plan);

} // namespace gma::codegen

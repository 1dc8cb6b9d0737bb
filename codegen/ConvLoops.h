//===- codegen/ConvLoops.h - The loop nest of a conv step ---------*- C++ -*-===//
//
// Every kernel that walks a conv (eval, ibp, the backward rule) walks it the
// same way: per sample and output element (channel m, then the output
// positions lexicographically), the taps over the input channels of m's
// group and the kernel offsets whose input position lies inside the input.
// The range of each kernel offset is computed from the output position, so
// no tap is tested and no padding is read. The taps come in ir/ops/Conv.cpp's
// order (channel, then kernel offsets lexicographically), so that the kernels
// compute what the interpreter and ir::crown compute.
//
// Internal to codegen/.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/IrHelpers.h"
#include "codegen/KernelPlan.h"

#include <llvm/IR/IRBuilder.h>

#include <functional>

namespace gma::codegen {

/// A loop of a conv kernel: emitLoop with LoopHint::Unroll (a conv's short
/// tap and tile loops run 2-3x slower rolled).
void convLoop(llvm::IRBuilder<> &b, llvm::Value *begin, llvm::Value *end, int64_t step,
              const char *name, const LoopBody &body);
void convLoop(llvm::IRBuilder<> &b, int64_t end, const char *name, const LoopBody &body);

/// One tap: input element xi (per-sample index) times weight element wi.
using ConvTapVisitor = std::function<void(llvm::IRBuilder<> &, llvm::Value *xi, llvm::Value *wi)>;
/// Emits the loops over the taps of the current output element.
using ConvTapLoop = std::function<void(llvm::IRBuilder<> &, const ConvTapVisitor &)>;
/// One output element: its index `out` (per sample: over [N, M, out...]),
/// its channel `m` and its taps.
using ConvOutputBody = std::function<void(llvm::IRBuilder<> &, llvm::Value *out, llvm::Value *m,
                                          const ConvTapLoop &taps)>;

/// A tile of up to `tile` consecutive outputs along the last spatial dim of
/// one output row of channel m: elements outBase + j, j < width.
struct ConvTile {
  llvm::Value *outBase = nullptr, *m = nullptr, *width = nullptr;
};
/// The taps of a tile: per input channel and kernel offset (ir/ops/Conv.cpp's
/// order), the outputs j of the tile that read an input element, innermost,
/// so that a stride-1 conv reads x contiguously (the loop vectorises). Each
/// output still receives its taps in the order of the per-output walk, so the
/// sums are the same operations in the same order.
struct ConvTileBody {
  std::function<void(llvm::IRBuilder<> &, const ConvTile &)> begin;
  std::function<void(llvm::IRBuilder<> &, llvm::Value *j, llvm::Value *xi, llvm::Value *wi)> tap;
  /// count(b, j): the number of taps of output j (i64).
  std::function<void(llvm::IRBuilder<> &, const ConvTile &,
                     const std::function<llvm::Value *(llvm::IRBuilder<> &, llvm::Value *j)> &count)>
      end;
};
void forEachConvTile(llvm::IRBuilder<> &b, const Step &s, llvm::Value *batch, int64_t tile,
                     const ConvTileBody &body);

/// Loops over `batch` samples (i64; input and output indices include the
/// sample: sample·numel + per-sample index) and every output element of each.
void forEachConvOutput(llvm::IRBuilder<> &b, const Step &s, llvm::Value *batch,
                       const ConvOutputBody &body);

} // namespace gma::codegen

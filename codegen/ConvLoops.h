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

#include "codegen/KernelPlan.h"

#include <llvm/IR/IRBuilder.h>

#include <functional>

namespace gma::codegen {

/// One tap: input element xi (per-sample index) times weight element wi.
using ConvTapVisitor = std::function<void(llvm::IRBuilder<> &, llvm::Value *xi, llvm::Value *wi)>;
/// Emits the loops over the taps of the current output element.
using ConvTapLoop = std::function<void(llvm::IRBuilder<> &, const ConvTapVisitor &)>;
/// One output element: its index `out` (per sample: over [N, M, out...]),
/// its channel `m`, its taps and their number `count` (i64).
using ConvOutputBody = std::function<void(llvm::IRBuilder<> &, llvm::Value *out, llvm::Value *m,
                                          const ConvTapLoop &taps, llvm::Value *count)>;

/// Loops over `batch` samples (i64; input and output indices include the
/// sample: sample·numel + per-sample index) and every output element of each.
void forEachConvOutput(llvm::IRBuilder<> &b, const Step &s, llvm::Value *batch,
                       const ConvOutputBody &body);

} // namespace gma::codegen

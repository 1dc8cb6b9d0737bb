//===- codegen/ShareKernels.h - One function per layer shape -----*- C++ -*-===//
//
// The emitters write one LLVM function per layer and kernel, and each refers
// to its layer's weights as constant globals. Layers of the same shape then
// give functions that differ only in which globals they read, and LLVM
// optimises and compiles every copy: compile time grows with the number of
// layers times their cost, and ACAS Xu's five identical hidden layers cost
// five times one.
//
// parameteriseWeights rewrites every internal function that reads constant
// globals to take them as (noalias, read-only) pointer parameters, passed by
// its callers. Functions that then have the same body are identical, and
// LLVM's MergeFunctions (run first in optimizeModule) keeps one of each.
// Kernels stay specialised to shapes, not to weight values, which is also the
// form that weights mapped from a file at run time need.
//
// Internal functions that contain loops are also marked noinline: inlining a
// shared layer function back into its callers would undo the sharing.
//
// Call both before optimizeModule, on the verified module the emitters
// produced.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace llvm {
class Module;
} // namespace llvm

namespace gma::codegen {

/// The metadata kind that marks a weight placeholder (codegen/KernelEmitter.h)
/// and holds its index in the weight table.
inline constexpr const char *kWeightMetadata = "gamma.weight";

/// Returns the number of functions rewritten.
int parameteriseWeights(llvm::Module &m);

/// Then: in every external kernel (whose first parameter is the weight table
/// of abi/KernelAbi.def), each use of a placeholder becomes a load of its
/// entry from the table (invariant, non-null, 4-byte aligned, dereferenceable
/// for the entry's size), and the placeholders are deleted. A use anywhere
/// else (a function parameteriseWeights could not rewrite) is a fatal
/// internal error: the module must not keep the placeholders' zeros.
void bindWeightTable(llvm::Module &m);

} // namespace gma::codegen

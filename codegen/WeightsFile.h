//===- codegen/WeightsFile.h - The .weights file of a library ---*- C++ -*-===//
//
// Since ABI 5 weight values are not in the compiled module: every kernel
// takes the weight table (KernelPlan::weights) as its first parameter. A
// shared library written by gammac carries them in `<stem>.weights` beside
// it, in the format abi/KernelAbi.def documents: a 64-byte header (magic
// "GAMMAWT1", zeros), then each entry's little-endian floats at an offset
// that is a multiple of 64. The descriptor records the offsets, the file's
// size and its BLAKE3 digest, so a runtime can check that a file belongs to
// its library before any kernel reads it.
//
// No LLVM here.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/KernelPlan.h"
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gma::codegen {

struct WeightsFileLayout {
  std::vector<int64_t> offsets; ///< Byte offset of each table entry.
  int64_t bytes = 0;            ///< The file's size.
};

WeightsFileLayout layoutWeightsFile(const KernelPlan &plan);

/// BLAKE3 (hex) of the file's bytes under `layout`, without writing it.
std::string weightsFileDigest(const KernelPlan &plan, const WeightsFileLayout &layout);

/// Calls `chunk` on consecutive pieces of the file's bytes under `layout`:
/// the one producer of them, for the digest and for the file (Aot.cpp
/// writes it through a temporary and a rename).
void forEachWeightsFileChunk(const KernelPlan &plan, const WeightsFileLayout &layout,
                             const std::function<void(const void *, size_t)> &chunk);

} // namespace gma::codegen

//===- runtime/ModelHash.h - Identity of a model file -----------*- C++ -*-===//
//
// A compiled verifier records the FNV-1a 64-bit hash of the ONNX bytes it was
// compiled from (gamma_kernel_info::model_hash), so a library is never used
// with a different model by mistake.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string_view>

namespace gma::runtime {

inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

} // namespace gma::runtime

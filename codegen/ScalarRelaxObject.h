//===- codegen/ScalarRelaxObject.h - The embedded scalar relaxations -*- C++ -*-===//
//
// The ELF object of abi/ScalarRelax.c (position-independent, hidden symbols),
// embedded at build time (abi/CMakeLists.txt). The crown kernels call its
// gamma_scalar_relax; Jit.cpp adds it to every JIT session and Aot.cpp links
// it into every shared library, so no kernel depends on a gamma library at
// run time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/ADT/StringRef.h>

extern const unsigned char gamma_scalar_relax_object[];
extern const unsigned long gamma_scalar_relax_object_size;

namespace gma::codegen {

inline llvm::StringRef scalarRelaxObject() {
  return {reinterpret_cast<const char *>(gamma_scalar_relax_object),
          static_cast<size_t>(gamma_scalar_relax_object_size)};
}

} // namespace gma::codegen

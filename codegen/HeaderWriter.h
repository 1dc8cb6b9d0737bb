//===- codegen/HeaderWriter.h - The C header of a verifier library -*- C++ -*-===//
//
// Internal to codegen/: the text of `<stem>_verifier.h`, written next to the
// shared library (EmitKind::Header). It includes only <stdint.h>, repeats the
// gamma_kernel_info layout of abi/KernelAbi.h under the same include guard
// (so both headers can be included together), declares the entry points and
// #defines the sizes a caller needs to allocate buffers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/KernelPlan.h"

#include <string>

namespace gma::codegen {

std::string writeHeader(const KernelPlan &plan, const std::string &prefix, const std::string &modelDigest);

} // namespace gma::codegen

//===- support/Files.h - Safe output targets ------------------*- C++ -*-===//
//
// gamma writes every output through a temporary and a rename. A rename
// replaces whatever the path names, so before any work starts, each output
// path is checked: it must not name a symlink, a device, a FIFO, a directory
// or one of the run's own inputs, and its folder must exist and be writable.
// Then a long search never ends in a lost answer or a clobbered input.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace gma::support {

/// Empty if `path` may be written by a temporary-and-rename (it does not exist
/// yet, or is a regular file that is none of `inputs`); otherwise why not.
std::string checkOutputTarget(const std::string &path, const std::vector<std::string> &inputs);

/// Where a verifier library's weights live (abi/KernelAbi.def, ABI 5):
/// `lib.so` → `lib.weights`; any other name gets `.weights` appended.
std::string weightsPathFor(const std::string &libraryPath);

} // namespace gma::support

//===- tools/gamma/ToolSupport.h - Helpers shared by gamma's commands -*- C++ -*-===//
#pragma once

#include "frontend/vnnlib/VnnLib.h"
#include "support/Diagnostic.h"
#include "abi/KernelAbi.h"
#include "tools/common/ExitCode.h"

#include <string>

namespace gma::tools {

/// Prints `gamma: <error>` to stderr; returns ExitCode::UserError.
ExitCode fail(const Error &e);

/// VnnlibDimension (naming the property file) unless the property has
/// `inputs` inputs and `outputs` outputs.
Status checkPropertyFits(const frontend::VnnlibProperty &p, int64_t inputs, int64_t outputs,
                         const std::string &vnnlibPath);

/// VerifierMismatch (naming the library) unless a gammac library records the
/// digest `modelDigest` (ir::Graph::sourceDigest of the model file): a
/// library compiled from another model, or from other external data, or one
/// that records no digest, is refused.
Status checkLibraryModel(const gamma_kernel_info *info, const std::string &modelDigest,
                         const std::string &modelPath, const std::string &libraryPath);

} // namespace gma::tools

//===- tools/gamma/ToolSupport.h - Helpers shared by gamma's commands -*- C++ -*-===//
#pragma once

#include "frontend/vnnlib/VnnLib.h"
#include "ir/Diagnostic.h"
#include "runtime/KernelAbi.h"
#include "tools/common/ExitCode.h"

#include <string>

namespace gma::tools {

/// Prints `gamma: <error>` to stderr; returns ExitCode::UserError.
ExitCode fail(const Error &e);

/// The whole file, or FileNotFound naming it.
Expected<std::string> readFile(const std::string &path);

/// VnnlibDimension (naming the property file) unless the property has
/// `inputs` inputs and `outputs` outputs.
Status checkPropertyFits(const frontend::VnnlibProperty &p, int64_t inputs, int64_t outputs,
                         const std::string &vnnlibPath);

/// VerifierMismatch (naming the library) if a gammac library records the hash
/// of a model other than `modelBytes`.
Status checkLibraryModel(const gamma_kernel_info *info, const std::string &modelBytes,
                         const std::string &modelPath, const std::string &libraryPath);

} // namespace gma::tools

//===- tools/gamma/ToolSupport.h - Helpers shared by gamma's commands -*- C++ -*-===//
#pragma once

#include "ir/Diagnostic.h"
#include "tools/common/ExitCode.h"

#include <string>

namespace gma::tools {

/// Prints `gamma: <error>` to stderr; returns ExitCode::UserError.
ExitCode fail(const Error &e);

/// The whole file, or FileNotFound naming it.
Expected<std::string> readFile(const std::string &path);

} // namespace gma::tools

//===- tools/common/ExitCode.h - Exit codes of gamma's tools ----*- C++ -*-===//
#pragma once

namespace gma::tools {

/// Every gamma tool exits with one of these (docs/errors.md).
enum class ExitCode : int {
  Success = 0,
  UserError = 1,     ///< Bad input or options: the message names what and where.
  InternalError = 2, ///< A bug in gamma (an exception or broken invariant).
};

inline int exitWith(ExitCode c) { return static_cast<int>(c); }

} // namespace gma::tools

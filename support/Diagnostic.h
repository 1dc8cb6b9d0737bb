//===- support/Diagnostic.h - User errors with codes and locations ---*- C++ -*-===//
//
// gamma keeps the user's mistakes apart from its own bugs. A malformed file, an
// unsupported operator or a bad option becomes an `Error` with a stable code
// (support/ErrorCodes.def) and a location (file, node, line/column); broken internal
// invariants are asserts. `Expected<T>` carries either a value or an Error.
//
// support/ is below every layer and LLVM-free here, so this is a small stand-alone result type in the
// spirit of llvm::Expected: an Error must be inspected (the tools print it and
// exit with ExitCode::UserError).
//
//===----------------------------------------------------------------------===//
#pragma once

// gamma's C++ namespace is `gma`: glibc's <math.h> declares a function
// ::gamma (the old name of lgamma), which a namespace `gamma` would collide with.

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gma {

/// Stable error codes, printed as `E<number>`.
enum class ErrorCode : int {
#define GAMMA_ERROR(Name, Number, Summary) Name = Number,
#include "support/ErrorCodes.def"
#undef GAMMA_ERROR
};

/// One-line summary of an error code, for docs and `gamma --list-errors`.
const char *errorCodeSummary(ErrorCode code);
/// "E2002" for ErrorCode::OnnxUnsupportedOp.
std::string errorCodeName(ErrorCode code);

/// `text` with every control character (bytes < 0x20 and 0x7f) written as a
/// C escape (\n, \r, \t, \x1b): safe to print to a terminal, one line.
std::string escapeControlChars(std::string_view text);

/// Where an error was found. Every field is optional; set what is known.
struct Location {
  std::string file;
  std::string node;   ///< ONNX node name (or IR value name).
  std::string opType; ///< ONNX op type, with its opset: "Conv (opset 13)".
  int line = 0;
  int column = 0;
};

/// A user-facing error: what went wrong, where, and its stable code.
class Error {
public:
  Error(ErrorCode code, std::string message, Location loc = {})
      : code_(code), message_(std::move(message)), loc_(std::move(loc)) {}

  ErrorCode code() const { return code_; }
  const std::string &message() const { return message_; }
  const Location &location() const { return loc_; }
  Location &location() { return loc_; }

  /// "model.onnx:node 'fc1' (Gemm, opset 13): error E2004: <message>", on one
  /// line: control characters (from untrusted names) are escaped as \n, \xNN.
  std::string str() const;

private:
  ErrorCode code_;
  std::string message_;
  Location loc_;
};

/// Either a T or an Error.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error err) : v_(std::move(err)) {}

  explicit operator bool() const { return v_.index() == 0; }
  T &operator*() { assert(*this && "dereferencing an Expected holding an error"); return std::get<0>(v_); }
  const T &operator*() const { assert(*this && "dereferencing an Expected holding an error"); return std::get<0>(v_); }
  T *operator->() { return &**this; }
  const T *operator->() const { return &**this; }
  const Error &error() const { assert(!*this && "no error"); return std::get<1>(v_); }
  Error takeError() { assert(!*this && "no error"); return std::move(std::get<1>(v_)); }

private:
  std::variant<T, Error> v_;
};

/// Success, or an Error: the result type of fallible operations with no value.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error err) : err_(std::move(err)) {}
  static Status ok() { return Status(); }

  explicit operator bool() const { return !err_.has_value(); } // true = success
  const Error &error() const { assert(err_ && "no error"); return *err_; }
  Error takeError() { assert(err_ && "no error"); return std::move(*err_); }

private:
  std::optional<Error> err_;
};

} // namespace gma

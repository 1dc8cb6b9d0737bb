//===- support/Diagnostic.cpp - User errors with codes and locations -----------===//
#include "support/Diagnostic.h"

#include <fmt/format.h>

namespace gma {

const char *errorCodeSummary(ErrorCode code) {
  switch (code) {
#define GAMMA_ERROR(Name, Number, Summary)                                     \
  case ErrorCode::Name:                                                        \
    return Summary;
#include "support/ErrorCodes.def"
#undef GAMMA_ERROR
  }
  return "unknown error";
}

std::string errorCodeName(ErrorCode code) {
  return fmt::format("E{:04d}", static_cast<int>(code));
}

std::string escapeControlChars(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

std::string Error::str() const {
  std::string where = loc_.file;
  if (loc_.line > 0) {
    where += fmt::format(":{}", loc_.line);
    if (loc_.column > 0)
      where += fmt::format(":{}", loc_.column);
  }
  if (!loc_.node.empty() || !loc_.opType.empty()) {
    if (!where.empty())
      where += ": ";
    where += fmt::format("node '{}'", loc_.node);
    if (!loc_.opType.empty())
      where += fmt::format(", {}", loc_.opType);
  }
  if (!where.empty())
    where += ": ";
  // Names in locations and messages come from the input (node names, tensor
  // names, paths): escape them so a model cannot write escape sequences or
  // fake lines to the user's terminal.
  return escapeControlChars(fmt::format("{}error {}: {}", where, errorCodeName(code_), message_));
}

} // namespace gma

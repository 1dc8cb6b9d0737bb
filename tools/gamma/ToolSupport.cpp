//===- tools/gamma/ToolSupport.cpp - Helpers shared by gamma's commands ---===//
#include "tools/gamma/ToolSupport.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace gma::tools {

ExitCode fail(const Error &e) {
  std::fprintf(stderr, "gamma: %s\n", e.str().c_str());
  return ExitCode::UserError;
}

Expected<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Location loc;
    loc.file = path;
    return Error(ErrorCode::FileNotFound, "cannot open the file", loc);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace gma::tools

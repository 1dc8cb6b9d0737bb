//===- tools/gamma/ToolSupport.cpp - Helpers shared by gamma's commands ---===//
#include "tools/gamma/ToolSupport.h"

#include "runtime/ModelHash.h"

#include <cstdio>
#include <fmt/format.h>
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

Status checkPropertyFits(const frontend::VnnlibProperty &p, int64_t inputs, int64_t outputs,
                         const std::string &vnnlibPath) {
  if (p.numInputs == inputs && p.numOutputs == outputs)
    return Status::ok();
  Location loc;
  loc.file = vnnlibPath;
  return Error(ErrorCode::VnnlibDimension,
               fmt::format("the property has {} inputs and {} outputs; the model has {} and {}",
                           p.numInputs, p.numOutputs, inputs, outputs),
               loc);
}

Status checkLibraryModel(const gamma_kernel_info *info, const std::string &modelBytes,
                         const std::string &modelPath, const std::string &libraryPath) {
  if (info->model_hash == 0 || info->model_hash == runtime::fnv1a64(modelBytes))
    return Status::ok();
  Location loc;
  loc.file = libraryPath;
  return Error(ErrorCode::VerifierMismatch,
               fmt::format("the library was compiled from a different model than '{}'", modelPath),
               loc);
}

} // namespace gma::tools

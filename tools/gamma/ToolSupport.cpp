//===- tools/gamma/ToolSupport.cpp - Helpers shared by gamma's commands ---===//
#include "tools/gamma/ToolSupport.h"


#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace gma::tools {

ExitCode fail(const Error &e) {
  std::fprintf(stderr, "gamma: %s\n", e.str().c_str());
  return ExitCode::UserError;
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

Status checkLibraryModel(const gamma_kernel_info *info, const std::string &modelDigest,
                         const std::string &modelPath, const std::string &libraryPath) {
  if (info->model_digest && !modelDigest.empty() && modelDigest == info->model_digest)
    return Status::ok();
  Location loc;
  loc.file = libraryPath;
  return Error(ErrorCode::VerifierMismatch,
               fmt::format("the library was compiled from a different model than '{}' (or from "
                           "different external data); recompile it with gammac",
                           modelPath),
               loc);
}

} // namespace gma::tools

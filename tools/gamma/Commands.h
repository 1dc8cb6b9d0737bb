//===- tools/gamma/Commands.h - gamma's subcommands -------------*- C++ -*-===//
#pragma once

#include "tools/common/ExitCode.h"

#include <string>

namespace gma::tools {

struct BoundsOptions {
  std::string model;
  std::string vnnlib;
  std::string method = "ibp";
  std::string engine = "jit"; ///< jit | interp; a --verifier library overrides it.
  std::string verifier;       ///< A library written by gammac.
  bool json = false;
  /// CROWN: replace interval bounds on unstable neurons by CROWN's, as
  /// auto_LiRPA does, instead of intersecting them (looser; for comparisons).
  bool lirpaCompatible = false;
};

/// `gamma bounds`: certified output bounds over a property's input boxes.
ExitCode runBounds(const BoundsOptions &opts);

} // namespace gma::tools

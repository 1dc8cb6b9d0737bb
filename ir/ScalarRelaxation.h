//===- ir/ScalarRelaxation.h - Linear bounds of scalar functions -*- C++ -*-===//
//
// The C++ face of abi/ScalarRelax.h: CROWN's lines of a scalar function
// (sigmoid, softplus, ...) on an interval, from the one generic builder that
// the reference CROWN and the emitted crown kernels both run (the kernels
// call the same compiled object; codegen/CrownEmitter.cpp). The margin is
// RoundingCharge::ScalarLines (zeroed only by the mutation check).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "abi/ScalarRelax.h"

namespace gma::ir {

/// y = slope·x + intercept.
struct Line {
  double slope = 0, intercept = 0;
  double at(double x) const { return slope * x + intercept; }
};

struct ScalarLines {
  Line lower, upper;
};

/// Sound lower and upper lines of `fn` on [l, u] (abi/ScalarRelax.h).
ScalarLines scalarRelaxation(gamma_scalar_fn fn, double l, double u);

inline ScalarLines sigmoidRelaxation(double l, double u) {
  return scalarRelaxation(GAMMA_SCALAR_SIGMOID, l, u);
}

} // namespace gma::ir

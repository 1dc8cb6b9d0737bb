//===- ir/ScalarRelaxation.cpp - Linear bounds of scalar functions --------===//
//
// See the header; the construction and its rounding argument are in
// abi/ScalarRelax.c.
//
//===----------------------------------------------------------------------===//
#include "ir/ScalarRelaxation.h"

#include "ir/Rounding.h"

namespace gma::ir {

ScalarLines scalarRelaxation(gamma_scalar_fn fn, double l, double u) {
  double out[4];
  gamma_scalar_relax(fn, l, u, chargeOn(RoundingCharge::ScalarLines), out);
  return {{out[0], out[1]}, {out[2], out[3]}};
}

} // namespace gma::ir

//===- frontend/vnnlib/VnnLib.h - VNN-LIB properties ------------*- C++ -*-===//
//
// Reads the VNN-COMP subset of VNN-LIB (an SMT-LIB dialect):
//
//   (declare-const X_0 Real) ... (declare-const Y_0 Real) ...
//   (assert (<= X_0 0.5)) (assert (>= X_0 -0.5))
//   (assert (or (and (>= Y_0 Y_1) (<= Y_2 3.9)) (and ...)))
//
// Assertions are conjoined and brought to disjunctive normal form. Each
// disjunct splits into bounds on single inputs (an input box) and linear
// constraints on outputs. The property is a list of cases, each an input box
// with one or more output conjunctions:
//
//   unsafe  ⇔  ∃ case, x ∈ case.box, conjunction j:  C_j · f(x) <= d_j.
//
// `unsat` therefore means: for every case and conjunction, some row of C_j·y <= d_j
// fails for every input in the box.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <cmath>
#include <limits>
#include <vector>

namespace gma::frontend {

/// A parsed number is the written decimal if `exact`, else only the nearest
/// double, within half an ulp of it: then one ulp `toward` a side is
/// certainly on that side of the decimal. (Unknown exactness counts as
/// inexact.)
inline double beyondWritten(double v, const std::vector<bool> &exact, size_t i, double toward) {
  return i < exact.size() && exact[i] ? v : std::nextafter(v, toward);
}

/// Unsafe region on the outputs: every row i satisfies sum_j C[i][j]·y_j <= d[i].
/// An empty conjunction (no rows) holds for every output.
struct OutputConjunction {
  std::vector<std::vector<double>> C;
  std::vector<double> d;
  /// Per row: true if C's row and d are exactly the values written (every
  /// decimal and every operation on them exact in double); otherwise they are
  /// the nearest doubles.
  std::vector<bool> exact;

  /// Thresholds at or above (below) the written d[r]: refuting C·y <= dAbove
  /// refutes the row as written; meeting dBelow meets it.
  double dAbove(size_t r) const { return beyondWritten(d[r], exact, r, kInf); }
  double dBelow(size_t r) const { return beyondWritten(d[r], exact, r, -kInf); }
  static constexpr double kInf = std::numeric_limits<double>::infinity();
};

struct PropertyCase {
  std::vector<double> lo, hi; ///< The input box, as written (nearest double).
  /// Per input: true if lo (hi) is exactly the bound as written.
  std::vector<bool> loExact, hiExact;
  std::vector<OutputConjunction> disjuncts;

  /// Doubles certainly outside (below lo, above hi) and inside (above lo,
  /// below hi) the box as written; equal to the bound where it is exact.
  double loOutside(size_t i) const { return beyondWritten(lo[i], loExact, i, -kInf); }
  double hiOutside(size_t i) const { return beyondWritten(hi[i], hiExact, i, kInf); }
  double loInside(size_t i) const { return beyondWritten(lo[i], loExact, i, kInf); }
  double hiInside(size_t i) const { return beyondWritten(hi[i], hiExact, i, -kInf); }
  static constexpr double kInf = std::numeric_limits<double>::infinity();
};

struct VnnlibProperty {
  int64_t numInputs = 0;
  int64_t numOutputs = 0;
  std::vector<PropertyCase> cases;
};

/// Parses VNN-LIB text; errors name `fileName`, line and column.
Expected<VnnlibProperty> parseVnnlib(std::string_view text, const std::string &fileName);
/// Reads and parses a file.
Expected<VnnlibProperty> parseVnnlibFile(const std::string &path);

} // namespace gma::frontend

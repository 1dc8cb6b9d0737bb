//===- runtime/Spec.h - Verification problems in runtime terms --*- C++ -*-===//
//
// The runtime knows nothing of VNN-LIB: tools translate a parsed property into
// this form. A problem is a list of cases; each case is an input box with a
// disjunction of output conjunctions, and
//
//   unsafe  ⇔  ∃ case, x ∈ case's box, conjunction j:  C_j · f(x) <= d_j.
//
// Each case carries two f32 boxes: `outer` contains the box as written (rounded
// outward; proofs are made over it) and `inner` is contained in it (rounded
// inward; counterexamples are searched for in it, so a reported input really
// lies in the box as written).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector>

namespace gma::runtime {

/// Unsafe on the outputs iff every row r holds: sum_j C[r·outputs + j]·y_j <= d[r].
struct Conjunction {
  int64_t rows = 0;
  std::vector<double> C; ///< rows × outputs, row-major.
  std::vector<double> d; ///< rows.
};

struct SpecCase {
  std::vector<float> outerLo, outerHi; ///< Contains the written box.
  std::vector<float> innerLo, innerHi; ///< Inside the written box; may be empty (lo > hi).
  std::vector<Conjunction> disjuncts;
};

struct Spec {
  int64_t numInputs = 0;
  int64_t numOutputs = 0;
  std::vector<SpecCase> cases;
};

/// A concrete input and its f32 output that satisfy every row of
/// `cases[caseIndex].disjuncts[disjunct]`, with x inside the case's inner box.
struct Counterexample {
  int64_t caseIndex = 0;
  int64_t disjunct = 0;
  std::vector<float> x, y;
};

} // namespace gma::runtime

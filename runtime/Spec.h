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
// lies in the box as written). Likewise each conjunction has two thresholds:
// `d` is at or above the written one (refuting C·y <= d refutes the property
// as written) and `dSat` at or below it (a counterexample must meet it).
//
// A counterexample passes two gates (runtime/Falsify.h, `confirm`): the
// engine's f32 evaluation, and `independentCheck` when the caller sets one
// (gamma verify: the unoptimised graph evaluated in float64 by the IR
// interpreter, so neither gamma's passes nor its kernels are trusted for it).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace gma::runtime {

/// Unsafe on the outputs iff every row r holds: sum_j C[r·outputs + j]·y_j <= d[r].
struct Conjunction {
  int64_t rows = 0;
  std::vector<double> C; ///< rows × outputs, row-major.
  std::vector<double> d;    ///< rows: the proof side (>= the written threshold).
  std::vector<double> dSat; ///< rows: the counterexample side (<=); empty: d.
  double satThreshold(int64_t r) const { return dSat.empty() ? d[r] : dSat[r]; }

  /// Whether outputs y (`outputs` of them, f32 or double) meet every row
  /// against satThreshold, summed in double with zero tolerance; NaN fails.
  template <class T> bool metBy(const T *y, int64_t outputs) const {
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t k = 0; k < outputs; ++k)
        s += C[r * outputs + k] * static_cast<double>(y[k]);
      if (!(s <= satThreshold(r)))
        return false;
    }
    return true;
  }
};

struct SpecCase {
  std::vector<float> outerLo, outerHi; ///< Contains the written box.
  std::vector<float> innerLo, innerHi; ///< Inside the written box; may be empty (lo > hi).
  /// Inputs whose written interval holds no f32 (a pin to a decimal that is
  /// not an f32): a double inside it, which the independent check and the
  /// reported counterexample use, while the f32 search uses the nearest f32
  /// (innerLo = innerHi). NaN elsewhere; empty: no such input.
  std::vector<double> exactInput;
  std::vector<Conjunction> disjuncts;
};

/// The second gate to `sat`: re-evaluates the model at x by independent
/// means, writes its outputs to `y` and returns whether every row of `conj`
/// holds there with zero tolerance (against satThreshold).
using IndependentCheck =
    std::function<bool(const double *x, const Conjunction &conj, std::vector<double> &y)>;

struct Spec {
  int64_t numInputs = 0;
  int64_t numOutputs = 0;
  std::vector<SpecCase> cases;
  IndependentCheck independentCheck; ///< Optional.
};

/// A concrete input and its f32 output that satisfy every row of
/// `cases[caseIndex].disjuncts[disjunct]`, with x inside the case's inner box.
struct Counterexample {
  int64_t caseIndex = 0;
  int64_t disjunct = 0;
  std::vector<float> x, y;        ///< y: the engine's f32 evaluation.
  /// The point the independent check confirmed: x, with SpecCase::exactInput
  /// where that is set (empty without an independent check). It is the
  /// reported counterexample.
  std::vector<double> xReference;
  std::vector<double> yReference; ///< The independent check's outputs (if any).
};

} // namespace gma::runtime

//===- ir/Crown.h - Reference CROWN bounds ----------------------*- C++ -*-===//
//
// Backward linear bound propagation (CROWN: Zhang et al., "Efficient Neural
// Network Robustness Certification with General Activation Functions",
// NeurIPS 2018, Sec. 3; the ReLU relaxation of DeepPoly, Singh et al. POPL 2019,
// Sec. 4) on the IR, in double. It is the oracle for generated CROWN kernels
// and the bound engine of the interpreter.
//
// For a specification matrix C (rows × outputs) it returns lower and upper
// bounds on C·f(x) for x in [lo, hi]. Intermediate pre-activation bounds of
// every ReLU and sigmoid are computed by CROWN as well (for ReLU on the neurons
// interval bounds leave unstable); the result is intersected with IBP, so it
// is never looser.
//
// Soundness: every backward step's floating-point error is bounded (γ_n times
// the magnitudes involved, using the intermediate bounds of the values it
// multiplies) and added to the result's margin; relaxation slopes and
// intercepts are rounded so that the relaxation stays valid. See
// docs/soundness.md.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

#include <functional>
#include <map>
#include <utility>
#include <vector>

namespace gma::ir {

/// The state of a CROWN backward pass after one step (CrownOptions::trace).
/// With Λ_v and c the computed doubles, every step keeps the invariant of
/// docs/soundness.md: for every x in the box and every row r,
///   (spec·target(x))_r >= Σ_v Λ_v[r]·v(x) + c[r] - err[r]
/// (exact arithmetic on the right; v(x) the value of v at x). The pointers
/// are valid during the call only.
struct CrownTraceStep {
  int32_t op = -1;          ///< index in Graph::ops of the op just propagated
  ValueId target = kNoValue; ///< the value the pass bounds
  bool finalPass = false;   ///< the rows of C and -C (else: an intermediate
                            ///< bound of a ReLU or sigmoid input)
  bool parallel = false;    ///< the final pass with parallel lower ReLU slopes
  int64_t rows = 0;
  const double *spec = nullptr; ///< rows × numel(target), row-major
  /// Every value with pending coefficients: rows × numel(v), row-major.
  std::vector<std::pair<ValueId, const double *>> lambda;
  const double *c = nullptr, *err = nullptr; ///< rows each
};

struct CrownOptions {
  /// Intersect CROWN intermediate bounds with the interval bounds (sound and
  /// tighter). When false, CROWN replaces the interval bounds on unstable
  /// neurons (on all neurons once more than 90% are unstable), as auto_LiRPA
  /// 0.5 does by default; its intermediate bounds can
  /// then be looser than IBP, and so can the outputs before the final
  /// intersection with plain IBP.
  bool intersectIntermediate = true;
  /// Also return the input coefficients of each row's linear lower bound.
  bool wantInputCoefs = false;
  /// Run the final pass (of the rows, not of intermediate bounds) a second
  /// time with parallel lower ReLU slopes a = u/(u - l) and keep each row's
  /// larger bound, as the crown kernels do. CROWN is not monotone in the box
  /// and neither choice dominates (random networks in CrownTest). Off to
  /// compare with auto_LiRPA.
  bool parallelFinal = true;
  /// Bounds on relaxed values (the operand of a ReLU-like or smooth op, not
  /// the graph input), by value: before the value is tightened its interval
  /// is intersected with them (and checked again after). The results then
  /// bound C·f(x) over the points x of the box whose values lie in them (a
  /// branch-and-bound subdomain); CrownResult::empty when there is none.
  /// The crown kernels' bounds_in (abi/KernelAbi.def).
  std::map<ValueId, std::pair<std::vector<float>, std::vector<float>>> boundsIn;
  /// Lower slopes of the final (non-parallel) pass's ReLU and LeakyReLU
  /// relaxations, per operand value, one per neuron, read on unstable
  /// neurons and clamped to [leak, 1] (NaN reads as 1): α-CROWN's α. A
  /// value without an entry takes the adaptive slope. The kernels'
  /// lower_slopes.
  std::map<ValueId, std::vector<float>> lowerSlopes;
  /// Return the bounds used for every relaxed value (CrownResult::bounds).
  bool wantBounds = false;
  /// A debugging trace: called after every backward step of every pass
  /// (intermediate and final) with the pass's state. Unset, it costs one
  /// test per step. RoundingTest checks the invariant through it.
  std::function<void(const CrownTraceStep &)> trace;
};

struct CrownResult {
  std::vector<float> lower, upper; ///< rows each
  /// rows × numel(input) and rows, with CrownOptions::wantInputCoefs: the
  /// linear lower bound of row r before concretisation, sound on the box:
  /// (C·f(x))_r >= Σ_k inputCoefs[r, k]·x_k + inputOffsets[r] (exact sums).
  std::vector<float> inputCoefs;
  std::vector<float> inputOffsets;
  /// CrownOptions::boundsIn left no point of the box: lower = +inf and
  /// upper = -inf (and the linear bounds 0·x + inf).
  bool empty = false;
  /// With CrownOptions::wantBounds: every relaxed value's interval as the
  /// final pass used it (intersected with boundsIn and tightened).
  std::map<ValueId, std::pair<std::vector<float>, std::vector<float>>> bounds;
};

/// CROWN bounds of C·y (C row-major, rows × numel(output)) over the box. An
/// empty C means the identity (bounds on every output). One sample; the graph
/// must have one input and one output and use ops CROWN supports (affine,
/// matmul/add/sub/mul/div with constants, neg, relu, sigmoid, reshape,
/// identity).
Expected<CrownResult> crown(const Graph &g, const std::vector<float> &lo,
                            const std::vector<float> &hi, const std::vector<double> &C = {},
                            int64_t rows = 0, const CrownOptions &opts = {});

/// grad = d(c·f(x))/dx at one point x (c has numel(output) entries), by
/// reverse-mode differentiation through the ops CROWN supports, each op's
/// derivative taken at its f32 input values (ir::evaluateAll); ReLU's
/// derivative at 0 is taken as 0.
Expected<std::vector<float>> inputGradient(const Graph &g, const std::vector<float> &x,
                                           const std::vector<double> &c);

} // namespace gma::ir

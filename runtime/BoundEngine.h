//===- runtime/BoundEngine.h - What branch-and-bound needs of a model -*- C++ -*-===//
//
// Branch-and-bound (runtime/Bab.h) sees a model only through this interface:
// concrete evaluation, sound lower bounds of specification rows over boxes,
// and input gradients for attacks. Implementations: compiled kernels (JIT or a
// gammac library, runtime/KernelEngine.h) and, in tools, the reference CROWN of
// the IR interpreter. Every method must be safe to call concurrently from
// several threads (implementations keep per-call or per-thread scratch).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"

#include <cstdint>
#include <vector>

namespace gma::runtime {

class BoundEngine {
public:
  virtual ~BoundEngine() = default;

  virtual int64_t inputSize() const = 0;
  virtual int64_t outputSize() const = 0;

  /// y = f(x) in f32 for `batch` points (row-major, batch × inputSize).
  virtual void eval(const float *x, float *y, int64_t batch) const = 0;

  /// For each box b (lo/hi: batch × inputSize) and row r of C (rows ×
  /// outputSize, row-major): lower[b·rows + r] <= min over the box of
  /// (C·f(x))_r, soundly (docs/soundness.md). If `inputCoefs` is not null it
  /// receives, per box and row, a linear lower bound sound on the box:
  /// inputSize coefficients a and an offset o (batch × rows × (inputSize + 1)),
  /// (C·f(x))_r >= a·x + o for every x in the box, with exact sums.
  virtual Status lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                             int64_t rows, float *lower, float *inputCoefs) const = 0;

  /// The values the engine relaxes, for bounds on subdomains (null: it
  /// bounds boxes only). A per-box bounds array holds, for relaxed value j,
  /// sizes[j] lower bounds at 2·offsets[j] and as many upper bounds after
  /// them (2·floats in all); kinds[j] has GAMMA_RELAXED_* bits
  /// (abi/KernelAbi.def: piecewise-linear values can be split at 0).
  struct RelaxedValues {
    int64_t floats = 0;
    std::vector<int64_t> sizes, offsets;
    std::vector<int32_t> kinds;
  };
  virtual const RelaxedValues *relaxedValues() const { return nullptr; }

  /// lowerBounds over subdomains: with boundsIn (per box, relaxedValues'
  /// layout; null: none) the bounds hold over the points of each box whose
  /// relaxed values lie in them, and are +inf when none does; boundsOut
  /// (null: not wanted) receives the bounds each box's bounding used.
  virtual Status lowerBoundsOn(const float *lo, const float *hi, int64_t batch, const double *C,
                               int64_t rows, float *lower, float *inputCoefs,
                               const float *boundsIn, float *boundsOut) const {
    (void)lo, (void)hi, (void)batch, (void)C, (void)rows, (void)lower, (void)inputCoefs,
        (void)boundsIn, (void)boundsOut;
    return Error(ErrorCode::InvalidArgument, "this bound engine cannot bound subdomains");
  }

  /// grad[b] = d(c·f(x))/dx at x[b] (batch × inputSize); c has outputSize entries.
  virtual void gradient(const float *x, const double *c, float *grad, int64_t batch) const = 0;
};

} // namespace gma::runtime

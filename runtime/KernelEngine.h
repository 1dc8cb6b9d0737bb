//===- runtime/KernelEngine.h - BoundEngine over compiled kernels -*- C++ -*-===//
//
// Branch-and-bound's view of a compiled verifier (JIT or gammac library):
// `eval`, `crown` (with input coefficients) and `grad` kernels of
// abi/KernelAbi.h. Models without crown/grad kernels (activations with no
// compiled CROWN relaxation yet, e.g. sigmoid) fall back to the `ibp` kernel
// for bounds (C·y bounded from the output intervals, no input coefficients)
// and to central differences of `eval` for gradients. Each thread calls the
// kernels with its own scratch, so the engine is safe to use from oneTBB
// workers concurrently.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/BoundEngine.h"
#include "abi/KernelAbi.h"

namespace gma::runtime {

class KernelEngine : public BoundEngine {
public:
  /// `info` and the weight table `weights` must outlive the engine.
  KernelEngine(const gamma_kernel_info *info, const float *const *weights);

  /// Whether the descriptor has compiled CROWN and gradient kernels (else the
  /// engine bounds with IBP and differentiates numerically).
  static bool hasCrown(const gamma_kernel_info *info) {
    return info && info->abi_version >= 2 && info->crown && info->grad;
  }

  int64_t inputSize() const override { return info_->input_size; }
  int64_t outputSize() const override { return info_->output_size; }
  void eval(const float *x, float *y, int64_t batch) const override;
  Status lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                     int64_t rows, float *lower, float *inputCoefs) const override;
  void gradient(const float *x, const double *c, float *grad, int64_t batch) const override;
  /// The crown kernel's relaxed values (null without crown kernels or
  /// without relaxed values).
  const RelaxedValues *relaxedValues() const override {
    return relaxed_.floats > 0 ? &relaxed_ : nullptr;
  }
  Status lowerBoundsOn(const float *lo, const float *hi, int64_t batch, const double *C,
                       int64_t rows, float *lower, float *inputCoefs, const float *boundsIn,
                       float *boundsOut) const override;

private:
  const gamma_kernel_info *info_;
  const float *const *weights_;
  RelaxedValues relaxed_;
};

} // namespace gma::runtime

//===- runtime/KernelEngine.h - BoundEngine over compiled kernels -*- C++ -*-===//
//
// Branch-and-bound's view of a compiled verifier (JIT or gammac library):
// `eval`, `crown` (with input coefficients) and `grad` kernels of
// runtime/KernelAbi.h. Each thread calls the kernels with its own scratch, so
// the engine is safe to use from oneTBB workers concurrently.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/BoundEngine.h"
#include "runtime/KernelAbi.h"

namespace gma::runtime {

class KernelEngine : public BoundEngine {
public:
  /// `info` must have crown and grad kernels (see usable()) and outlive the engine.
  explicit KernelEngine(const gamma_kernel_info *info) : info_(info) {}

  /// Whether a descriptor has every kernel this engine needs.
  static bool usable(const gamma_kernel_info *info) {
    return info && info->abi_version >= 2 && info->crown && info->grad && info->eval;
  }

  int64_t inputSize() const override { return info_->input_size; }
  int64_t outputSize() const override { return info_->output_size; }
  void eval(const float *x, float *y, int64_t batch) const override;
  Status lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                     int64_t rows, float *lower, float *inputCoefs) const override;
  void gradient(const float *x, const double *c, float *grad, int64_t batch) const override;

private:
  const gamma_kernel_info *info_;
};

} // namespace gma::runtime

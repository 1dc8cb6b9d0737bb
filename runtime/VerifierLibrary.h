//===- runtime/VerifierLibrary.h - Loading and calling kernels --*- C++ -*-===//
//
// The runtime sees a model only through gamma_kernel_info (abi/KernelAbi.h):
// from a shared library written by gammac (VerifierLibrary) or from the JIT.
// `Kernels` wraps a descriptor with per-call scratch management for C++ callers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "abi/KernelAbi.h"

#include <memory>
#include <string>
#include <vector>

namespace gma::runtime {

/// A dlopen'ed verifier library. Closing it invalidates its descriptor.
class VerifierLibrary {
public:
  /// Loads `path`, checks the ABI version, returns VerifierLoad /
  /// VerifierMismatch errors naming the file.
  static Expected<std::unique_ptr<VerifierLibrary>> open(const std::string &path);
  ~VerifierLibrary();
  const gamma_kernel_info *info() const { return info_; }

private:
  VerifierLibrary(void *handle, const gamma_kernel_info *info) : handle_(handle), info_(info) {}
  void *handle_;
  const gamma_kernel_info *info_;
};

/// Calls a descriptor's kernels with scratch it owns (grown on demand).
/// Not thread-safe: use one Kernels per thread.
class Kernels {
public:
  explicit Kernels(const gamma_kernel_info *info) : info_(info) {}
  const gamma_kernel_info &info() const { return *info_; }

  void eval(const float *x, float *y, int64_t batch);
  void ibp(const float *xlo, const float *xhi, float *ylo, float *yhi, int64_t batch);
  /// gamma_crown_fn; InvalidArgument when the model has no crown kernel.
  Status crown(const float *xlo, const float *xhi, const double *C, int64_t rows, float *lower,
               float *inputCoefs, int64_t batch);
  /// gamma_grad_fn; InvalidArgument when the model has no grad kernel.
  Status grad(const float *x, const double *c, float *grad, int64_t batch);

private:
  float *scratch(int64_t floats);
  const gamma_kernel_info *info_;
  std::unique_ptr<float[], void (*)(void *)> buf_{nullptr, nullptr};
  int64_t capacity_ = 0;
};

} // namespace gma::runtime

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

/// Weight arrays to bind a library's kernels to instead of its .weights
/// file: one pointer per table entry, with the floats each holds; `keep`
/// keeps them alive as long as the library.
struct WeightBinding {
  std::vector<const float *> table;
  std::vector<int64_t> sizes;
  std::shared_ptr<const void> keep;
};

/// A dlopen'ed verifier library and the weight table its kernels read.
/// Closing it invalidates its descriptor and table.
class VerifierLibrary {
public:
  /// Loads `path` and maps its weights file (support::weightsPathFor),
  /// checking the ABI version and that the file is the library's (size,
  /// magic and BLAKE3 digest recorded in the descriptor). VerifierLoad /
  /// VerifierMismatch errors name the file.
  static Expected<std::unique_ptr<VerifierLibrary>> open(const std::string &path);
  /// Loads `path` with the weights of `binding` (each entry's size must be
  /// the descriptor's): the compile cache's libraries, bound to the graph
  /// they are loaded for.
  static Expected<std::unique_ptr<VerifierLibrary>> open(const std::string &path,
                                                         WeightBinding binding);
  ~VerifierLibrary();
  const gamma_kernel_info *info() const { return info_; }
  const float *const *weights() const { return binding_.table.data(); }

private:
  static Expected<std::unique_ptr<VerifierLibrary>> load(const std::string &path);
  VerifierLibrary(void *handle, const gamma_kernel_info *info) : handle_(handle), info_(info) {}
  void *handle_;
  const gamma_kernel_info *info_;
  WeightBinding binding_;
};

/// The crown kernel's optional per-box arrays (abi/KernelAbi.def): null
/// for none.
struct CrownArrays {
  const float *boundsIn = nullptr;    ///< 2 · relaxed_floats per box
  float *boundsOut = nullptr;         ///< 2 · relaxed_floats per box
  const float *lowerSlopes = nullptr; ///< relaxed_floats per box
};

/// Calls a descriptor's kernels with scratch it owns (grown on demand).
/// Not thread-safe: use one Kernels per thread.
class Kernels {
public:
  Kernels(const gamma_kernel_info *info, const float *const *weights)
      : info_(info), weights_(weights) {}
  const gamma_kernel_info &info() const { return *info_; }

  void eval(const float *x, float *y, int64_t batch);
  void ibp(const float *xlo, const float *xhi, float *ylo, float *yhi, int64_t batch);
  /// gamma_crown_fn; InvalidArgument when the model has no crown kernel.
  Status crown(const float *xlo, const float *xhi, const double *C, int64_t rows, float *lower,
               float *inputCoefs, int64_t batch, const CrownArrays &arrays = {});
  /// gamma_grad_fn; InvalidArgument when the model has no grad kernel.
  Status grad(const float *x, const double *c, float *grad, int64_t batch);

private:
  float *scratch(int64_t floats);
  const gamma_kernel_info *info_;
  const float *const *weights_;
  std::unique_ptr<float[], void (*)(void *)> buf_{nullptr, nullptr};
  int64_t capacity_ = 0;
};

} // namespace gma::runtime

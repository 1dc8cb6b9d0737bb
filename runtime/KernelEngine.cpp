//===- runtime/KernelEngine.cpp - BoundEngine over compiled kernels -------===//
#include "runtime/KernelEngine.h"

#include "runtime/VerifierLibrary.h"

#include <map>
#include <memory>

namespace gma::runtime {
namespace {

/// The calling thread's Kernels for a descriptor (scratch is per thread).
Kernels &threadKernels(const gamma_kernel_info *info) {
  thread_local std::map<const gamma_kernel_info *, std::unique_ptr<Kernels>> perThread;
  auto &k = perThread[info];
  if (!k)
    k = std::make_unique<Kernels>(info);
  return *k;
}

} // namespace

void KernelEngine::eval(const float *x, float *y, int64_t batch) const {
  threadKernels(info_).eval(x, y, batch);
}

Status KernelEngine::lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                                 int64_t rows, float *lower, float *inputCoefs) const {
  return threadKernels(info_).crown(lo, hi, C, rows, lower, inputCoefs, batch);
}

void KernelEngine::gradient(const float *x, const double *c, float *grad, int64_t batch) const {
  // grad exists (usable()); an error here would be a broken descriptor.
  Status s = threadKernels(info_).grad(x, c, grad, batch);
  (void)s;
}

} // namespace gma::runtime

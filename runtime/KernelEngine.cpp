//===- runtime/KernelEngine.cpp - BoundEngine over compiled kernels -------===//
#include "runtime/KernelEngine.h"

#include "runtime/VerifierLibrary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <memory>
#include <vector>

namespace gma::runtime {
namespace {

/// The calling thread's Kernels for a descriptor (scratch is per thread).
Kernels &threadKernels(const gamma_kernel_info *info, const float *const *weights) {
  thread_local std::map<std::pair<const gamma_kernel_info *, const float *const *>,
                        std::unique_ptr<Kernels>>
      perThread;
  auto &k = perThread[{info, weights}];
  if (!k)
    k = std::make_unique<Kernels>(info, weights);
  return *k;
}

} // namespace

KernelEngine::KernelEngine(const gamma_kernel_info *info, const float *const *weights)
    : info_(info), weights_(weights) {
  if (hasCrown(info) && info->abi_version >= 6)
    for (int64_t j = 0; j < info->relaxed_count; ++j) {
      relaxed_.sizes.push_back(info->relaxed_sizes[j]);
      relaxed_.offsets.push_back(info->relaxed_offsets[j]);
      relaxed_.kinds.push_back(info->relaxed_kinds[j]);
      relaxed_.floats = info->relaxed_floats;
    }
}

Status KernelEngine::lowerBoundsOn(const float *lo, const float *hi, int64_t batch,
                                   const double *C, int64_t rows, float *lower, float *inputCoefs,
                                   const float *boundsIn, float *boundsOut) const {
  if (!relaxedValues())
    return BoundEngine::lowerBoundsOn(lo, hi, batch, C, rows, lower, inputCoefs, boundsIn,
                                      boundsOut);
  return threadKernels(info_, weights_)
      .crown(lo, hi, C, rows, lower, inputCoefs, batch, CrownArrays{boundsIn, boundsOut, nullptr});
}

void KernelEngine::eval(const float *x, float *y, int64_t batch) const {
  threadKernels(info_, weights_).eval(x, y, batch);
}

Status KernelEngine::lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                                 int64_t rows, float *lower, float *inputCoefs) const {
  if (hasCrown(info_))
    return threadKernels(info_, weights_).crown(lo, hi, C, rows, lower, inputCoefs, batch);
  // IBP fallback: min over the output box of C_r·y, in double. Products of an
  // f32 endpoint and a double coefficient round once each and the n-term sum
  // errs by at most γ_n·Σ|terms|: subtracted, then rounded down (outward).
  int64_t n = info_->output_size;
  std::vector<float> ylo(batch * n), yhi(batch * n);
  threadKernels(info_, weights_).ibp(lo, hi, ylo.data(), yhi.data(), batch);
  const double gamma = static_cast<double>(n + 2) * 0x1p-53 * (1 + 1e-9);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r) {
      double acc = 0, mag = 0;
      for (int64_t j = 0; j < n; ++j) {
        double c = C[r * n + j];
        double y = c >= 0 ? ylo[b * n + j] : yhi[b * n + j];
        if (c == 0)
          continue;
        acc += c * y;
        mag += std::fabs(c * y);
      }
      double v = acc - 2 * gamma * mag;
      float f = std::isnan(v) ? -INFINITY : static_cast<float>(v);
      if (static_cast<double>(f) > v)
        f = std::nextafter(f, -INFINITY);
      lower[b * rows + r] = f;
    }
  if (inputCoefs) // the constant linear bound a = 0, o = lower
    for (int64_t i = 0; i < batch * rows; ++i) {
      float *row = inputCoefs + i * (info_->input_size + 1);
      std::fill(row, row + info_->input_size, 0.0f);
      row[info_->input_size] = lower[i];
    }
  return Status::ok();
}

void KernelEngine::gradient(const float *x, const double *c, float *grad, int64_t batch) const {
  if (hasCrown(info_)) {
    // grad exists (hasCrown); an error here would be a broken descriptor.
    Status s = threadKernels(info_, weights_).grad(x, c, grad, batch);
    (void)s;
    return;
  }
  // Central differences of c·f, all 2·n perturbed points of a sample in one
  // eval call. Only a search direction for attacks: never used in a proof.
  int64_t n = info_->input_size, m = info_->output_size;
  std::vector<float> pts(2 * n * n), ys(2 * n * m);
  for (int64_t b = 0; b < batch; ++b) {
    const float *xb = x + b * n;
    std::vector<float> h(n);
    for (int64_t i = 0; i < n; ++i) {
      h[i] = std::max(1e-3f * std::fabs(xb[i]), 1e-3f);
      for (int s = 0; s < 2; ++s) {
        float *p = &pts[(2 * i + s) * n];
        std::copy(xb, xb + n, p);
        p[i] += s ? -h[i] : h[i];
      }
    }
    threadKernels(info_, weights_).eval(pts.data(), ys.data(), 2 * n);
    for (int64_t i = 0; i < n; ++i) {
      double plus = 0, minus = 0;
      for (int64_t j = 0; j < m; ++j) {
        plus += c[j] * ys[(2 * i) * m + j];
        minus += c[j] * ys[(2 * i + 1) * m + j];
      }
      grad[b * n + i] = static_cast<float>((plus - minus) / (2.0 * h[i]));
    }
  }
}

} // namespace gma::runtime

//===- runtime/LinearCut.cpp - Cutting boxes with linear bounds -----------===//
//
// For row a·x + o <= d and each x_i with a_i != 0:
//   a_i·x_i <= d - o - Σ_{k≠i} min(a_k·lo_k, a_k·hi_k) =: τ_i,
// so x_i <= τ_i / a_i (a_i > 0) or x_i >= τ_i / a_i (a_i < 0). Two passes
// over the rows let each row's cuts feed the others.
//
//===----------------------------------------------------------------------===//
#include "runtime/LinearCut.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gma::runtime {

bool narrowBox(const float *lin, const double *d, int64_t rows, int64_t n, std::vector<float> &lo,
               std::vector<float> &hi) {
  constexpr double kEps = 0x1p-52;
  std::vector<double> t(n);
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t r = 0; r < rows; ++r) {
      const float *a = lin + r * (n + 1);
      double off = a[n];
      if (!std::isfinite(off))
        continue;
      double sum = 0, mag = std::fabs(d[r]) + std::fabs(off);
      bool finite = true;
      for (int64_t k = 0; k < n; ++k) {
        t[k] = std::min(static_cast<double>(a[k]) * lo[k], static_cast<double>(a[k]) * hi[k]);
        if (a[k] == 0)
          t[k] = 0;
        finite = finite && std::isfinite(t[k]);
        sum += t[k];
        mag += 2 * std::fabs(t[k]);
      }
      if (!finite)
        continue;
      double err = static_cast<double>(n + 8) * kEps * mag;
      double beta = d[r] - off;
      if (beta - sum + err < 0)
        return false; // even the row's minimum over the box exceeds d_r
      for (int64_t i = 0; i < n; ++i) {
        if (a[i] == 0)
          continue;
        // a_i·x_i <= beta - Σ_{k≠i} t_k <= tau.
        double tau = beta - (sum - t[i]) + err;
        double q = tau / a[i];
        double slack = std::fabs(q) * 2 * kEps + 0x1p-1074;
        if (a[i] > 0) {
          double up = q + slack;
          float f = static_cast<float>(up);
          if (static_cast<double>(f) < up)
            f = std::nextafter(f, std::numeric_limits<float>::infinity());
          if (f < hi[i])
            hi[i] = f;
        } else {
          double dn = q - slack;
          float f = static_cast<float>(dn);
          if (static_cast<double>(f) > dn)
            f = std::nextafter(f, -std::numeric_limits<float>::infinity());
          if (f > lo[i])
            lo[i] = f;
        }
        if (!(lo[i] <= hi[i]))
          return false;
      }
    }
  return true;
}

} // namespace gma::runtime

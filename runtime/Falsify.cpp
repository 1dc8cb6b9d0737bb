//===- runtime/Falsify.cpp - Searching for counterexamples ----------------===//
//
// Sampling and PGD (runtime/Falsify.h). PGD works on batches: all starts of a
// conjunction move together, so one `eval` and one `gradient` call per worst
// row serve the whole batch.
//
//===----------------------------------------------------------------------===//
#include "runtime/Falsify.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <tbb/parallel_for.h>

namespace gma::runtime {

double conjunctionMargin(const Conjunction &conj, const float *y, int64_t outputs,
                         int64_t *worstRow) {
  double worst = -std::numeric_limits<double>::infinity();
  int64_t arg = 0;
  for (int64_t r = 0; r < conj.rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < outputs; ++j)
      s += conj.C[r * outputs + j] * static_cast<double>(y[j]);
    double m = s - conj.d[r];
    if (std::isnan(m))
      m = std::numeric_limits<double>::infinity(); // a NaN output satisfies nothing
    if (m > worst) {
      worst = m;
      arg = r;
    }
  }
  if (worstRow)
    *worstRow = arg;
  return worst;
}

uint64_t mixSeed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::optional<Counterexample> confirm(const BoundEngine &engine, const Spec &spec,
                                      int64_t caseIndex, const float *x) {
  const SpecCase &c = spec.cases[caseIndex];
  int64_t n = spec.numInputs, m = spec.numOutputs;
  for (int64_t i = 0; i < n; ++i)
    if (!(x[i] >= c.innerLo[i] && x[i] <= c.innerHi[i]))
      return std::nullopt;
  std::vector<float> y(m);
  engine.eval(x, y.data(), 1);
  for (size_t j = 0; j < c.disjuncts.size(); ++j) {
    const Conjunction &conj = c.disjuncts[j];
    bool holds = conj.metBy(y.data(), m);
    std::vector<double> xReference, yReference;
    if (holds && spec.independentCheck) {
      xReference.assign(x, x + n);
      for (size_t i = 0; i < c.exactInput.size(); ++i)
        if (!std::isnan(c.exactInput[i]))
          xReference[i] = c.exactInput[i];
      holds = spec.independentCheck(xReference.data(), conj, yReference);
    }
    if (holds) {
      Counterexample cex;
      cex.caseIndex = caseIndex;
      cex.disjunct = static_cast<int64_t>(j);
      cex.x.assign(x, x + n);
      cex.y = std::move(y);
      cex.xReference = std::move(xReference);
      cex.yReference = std::move(yReference);
      return cex;
    }
  }
  return std::nullopt;
}

std::optional<Counterexample> tryPoints(const BoundEngine &engine, const Spec &spec,
                                        int64_t caseIndex, const float *xs, int64_t count) {
  if (count <= 0)
    return std::nullopt;
  int64_t n = spec.numInputs, m = spec.numOutputs;
  std::vector<float> ys(count * m);
  engine.eval(xs, ys.data(), count);
  const SpecCase &c = spec.cases[caseIndex];
  for (int64_t p = 0; p < count; ++p)
    for (const Conjunction &conj : c.disjuncts)
      if (conjunctionMargin(conj, &ys[p * m], m) <= 0) {
        if (auto cex = confirm(engine, spec, caseIndex, xs + p * n))
          return cex;
        break;
      }
  return std::nullopt;
}

bool clampToInner(const SpecCase &c, std::vector<float> &lo, std::vector<float> &hi) {
  for (size_t i = 0; i < lo.size(); ++i) {
    lo[i] = std::max(lo[i], c.innerLo[i]);
    hi[i] = std::min(hi[i], c.innerHi[i]);
    if (!(lo[i] <= hi[i]))
      return false;
  }
  return true;
}

namespace {

/// A uniform f32 in [lo, hi] (never outside, whatever the rounding).
float uniformIn(float lo, float hi, std::mt19937_64 &rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double v = static_cast<double>(lo) + u(rng) * (static_cast<double>(hi) - lo);
  return std::clamp(static_cast<float>(v), lo, hi);
}

} // namespace

std::optional<Counterexample> sampleBox(const BoundEngine &engine, const Spec &spec,
                                        int64_t caseIndex, const float *lo, const float *hi,
                                        int count, uint64_t seed) {
  int64_t n = spec.numInputs;
  if (count <= 0)
    return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<float> xs(static_cast<size_t>(count) * n);
  // Corners first: all of them for up to 6 inputs, else random ones.
  int corners = n <= 6 ? std::min<int>(count, 1 << n) : std::min(count, 64);
  for (int p = 0; p < count; ++p) {
    float *x = &xs[static_cast<size_t>(p) * n];
    for (int64_t i = 0; i < n; ++i) {
      if (p < corners) {
        bool up = n <= 6 ? ((p >> i) & 1) : (rng() & 1);
        x[i] = up ? hi[i] : lo[i];
      } else {
        x[i] = uniformIn(lo[i], hi[i], rng);
      }
    }
  }
  // Batches of 256 keep the eval scratch small.
  for (int64_t b = 0; b < count; b += 256)
    if (auto cex = tryPoints(engine, spec, caseIndex, &xs[b * n], std::min<int64_t>(256, count - b)))
      return cex;
  return std::nullopt;
}

std::optional<Counterexample> pgd(const BoundEngine &engine, const Spec &spec, int64_t caseIndex,
                                  int64_t disjunct, const float *lo, const float *hi,
                                  const float *starts, int64_t numStarts, int steps, uint64_t seed,
                                  const StopCondition &stop, double stepFraction) {
  int64_t n = spec.numInputs, m = spec.numOutputs;
  const Conjunction &conj = spec.cases[caseIndex].disjuncts[disjunct];
  if (numStarts <= 0 || conj.rows == 0)
    return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<float> xs(numStarts * n);
  for (int64_t p = 0; p < numStarts; ++p)
    for (int64_t i = 0; i < n; ++i)
      xs[p * n + i] = starts ? std::clamp(starts[p * n + i], lo[i], hi[i])
                             : uniformIn(lo[i], hi[i], rng);
  std::vector<float> ys(numStarts * m), grad, gx;
  std::vector<double> c(m);
  std::vector<int64_t> worst(numStarts);
  for (int step = 0; step <= steps; ++step) {
    engine.eval(xs.data(), ys.data(), numStarts);
    for (int64_t p = 0; p < numStarts; ++p)
      if (conjunctionMargin(conj, &ys[p * m], m, &worst[p]) <= 0)
        if (auto cex = confirm(engine, spec, caseIndex, &xs[p * n]))
          return cex;
    if (step == steps || stop.stop())
      break;
    // Signed-gradient step on the sum of the violated rows' margins (the
    // worst row alone for conjunctions of more than 64 rows), with a step of
    // a fraction of each dimension's width decaying linearly: stepFraction
    // for even starts, 5× that for odd ones. Small steps find narrow
    // regions (at 10% of the width PGD on ACAS Xu 1_5 prop_2 circles a local
    // minimum; at 2% most batches of 2048 starts find the counterexample),
    // large ones travel across the box.
    double decay = 1.0 - static_cast<double>(step) / steps;
    // One gradient call per set of violated rows (a bit mask; for more
    // than 64 rows, the worst row's index), over the starts it is for.
    std::map<uint64_t, std::vector<int64_t>> byRows;
    for (int64_t p = 0; p < numStarts; ++p) {
      uint64_t mask = 0;
      if (conj.rows > 64) {
        byRows[static_cast<uint64_t>(worst[p])].push_back(p);
        continue;
      }
      {
        for (int64_t r = 0; r < conj.rows; ++r) {
          double s = 0;
          for (int64_t j = 0; j < m; ++j)
            s += conj.C[r * m + j] * static_cast<double>(ys[p * m + j]);
          if (s - conj.d[r] > 0)
            mask |= uint64_t(1) << r;
        }
      }
      if (mask == 0) // NaN outputs: the worst row
        mask = uint64_t(1) << worst[p];
      byRows[mask].push_back(p);
    }
    for (auto &[mask, pts] : byRows) {
      std::fill(c.begin(), c.end(), 0.0);
      if (conj.rows <= 64) {
        for (int64_t r = 0; r < conj.rows; ++r)
          if (mask >> r & 1)
            for (int64_t j = 0; j < m; ++j)
              c[j] += conj.C[r * m + j];
      } else {
        std::copy_n(&conj.C[static_cast<int64_t>(mask) * m], m, c.begin());
      }
      int64_t k = static_cast<int64_t>(pts.size());
      gx.resize(k * n);
      grad.resize(k * n);
      for (int64_t q = 0; q < k; ++q)
        std::copy_n(&xs[pts[q] * n], n, &gx[q * n]);
      engine.gradient(gx.data(), c.data(), grad.data(), k);
      for (int64_t q = 0; q < k; ++q) {
        float *x = &xs[pts[q] * n];
        double frac = stepFraction * (pts[q] % 2 ? 5.0 : 1.0) * decay + 1e-5;
        for (int64_t i = 0; i < n; ++i) {
          float g = grad[q * n + i];
          if (g == 0 || std::isnan(g))
            continue;
          double w = static_cast<double>(hi[i]) - lo[i];
          double v = static_cast<double>(x[i]) - (g > 0 ? 1 : -1) * frac * w;
          x[i] = std::clamp(static_cast<float>(v), lo[i], hi[i]);
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<Counterexample> falsify(const BoundEngine &engine, const Spec &spec,
                                      const FalsifyOptions &opts, const StopCondition &stop) {
  // Tasks: one sampling task per case; per (case, conjunction), PGD tasks of
  // at most kStartsPerTask starts, so that many restarts spread over threads.
  constexpr int64_t kStartsPerTask = 256;
  struct Task {
    int64_t caseIndex;
    int64_t disjunct; ///< -1: sampling
    int64_t starts = 0;
  };
  std::vector<Task> tasks;
  for (size_t c = 0; c < spec.cases.size(); ++c) {
    tasks.push_back({static_cast<int64_t>(c), -1});
    for (size_t j = 0; j < spec.cases[c].disjuncts.size(); ++j)
      for (int64_t left = opts.restarts; left > 0; left -= kStartsPerTask)
        tasks.push_back({static_cast<int64_t>(c), static_cast<int64_t>(j),
                         std::min(left, kStartsPerTask)});
  }
  std::vector<std::optional<Counterexample>> found(tasks.size());
  std::atomic<bool> done{false};
  tbb::parallel_for(size_t(0), tasks.size(), [&](size_t t) {
    if (done.load() || stop.stop())
      return;
    const Task &task = tasks[t];
    const SpecCase &c = spec.cases[task.caseIndex];
    std::vector<float> lo = c.innerLo, hi = c.innerHi;
    if (!clampToInner(c, lo, hi))
      return;
    uint64_t seed = mixSeed(opts.seed, t);
    if (task.disjunct < 0)
      found[t] = sampleBox(engine, spec, task.caseIndex, lo.data(), hi.data(),
                           opts.samplesPerCase, seed);
    else
      found[t] = pgd(engine, spec, task.caseIndex, task.disjunct, lo.data(), hi.data(), nullptr,
                     task.starts, opts.steps, seed, stop);
    if (found[t])
      done.store(true);
  });
  // The first task in index order that found one. Tasks not yet started
  // when one succeeds are skipped, so with several threads which task wins
  // can vary; deterministic mode runs one thread (runtime/Bab.h).
  for (auto &f : found)
    if (f)
      return f;
  return std::nullopt;
}

} // namespace gma::runtime

//===- runtime/Falsify.h - Searching for counterexamples --------*- C++ -*-===//
//
// Falsification looks for an input in a case's box whose f32 output satisfies
// every row of one of the case's output conjunctions:
//
//   1. random sampling: the box's corners (up to 64) and uniform points;
//   2. PGD: projected signed-gradient descent on the conjunction's worst row
//      margin max_r (C_r·f(x) − d_r), from random starts, with a decaying step.
//
// Every candidate goes through `confirm`, the one gate to a `sat`: it checks
// that x lies in the case's inner box, evaluates f(x) with the engine's
// concrete f32 `eval`, and checks every row C·y <= dSat in double, then asks
// the spec's independentCheck (if set) to confirm the same. An unconfirmed
// candidate is never reported.
//
// Randomness comes from explicit seeds (splitmix64 of the user's seed and the
// task's index), so results do not depend on the number of threads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/BoundEngine.h"
#include "runtime/Spec.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace gma::runtime {

/// When to stop: a deadline (optional) and a cancellation flag (optional)
/// that another thread may set at any time.
struct StopCondition {
  std::chrono::steady_clock::time_point deadline{};
  bool hasDeadline = false;
  const std::atomic<bool> *cancel = nullptr;

  bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
  bool timedOut() const { return hasDeadline && std::chrono::steady_clock::now() >= deadline; }
  bool stop() const { return cancelled() || timedOut(); }
};

struct FalsifyOptions {
  uint64_t seed = 0;
  int samplesPerCase = 1024; ///< Corners (up to 64) and uniform points per case.
  int restarts = 8;          ///< PGD starts per (case, conjunction).
  int steps = 40;            ///< PGD steps per start.
};

/// max_r (C_r·y − d_r) in double over the conjunction's rows (<= 0: all hold);
/// -inf for an empty conjunction. `worstRow` receives the maximising row.
double conjunctionMargin(const Conjunction &conj, const float *y, int64_t outputs,
                         int64_t *worstRow = nullptr);

/// splitmix64: derives independent seeds from (seed, index).
uint64_t mixSeed(uint64_t seed, uint64_t index);

/// The gate to `sat`: x in the case's inner box, f32 eval, every row of some
/// conjunction of the case holds. Returns the counterexample with the first
/// satisfied conjunction.
std::optional<Counterexample> confirm(const BoundEngine &engine, const Spec &spec,
                                      int64_t caseIndex, const float *x);

/// Evaluates `count` points (count × inputs, already inside the inner box) in
/// one batch; confirms and returns the first that satisfies a conjunction.
std::optional<Counterexample> tryPoints(const BoundEngine &engine, const Spec &spec,
                                        int64_t caseIndex, const float *xs, int64_t count);

/// Clamps a box [lo, hi] (inputs floats each) to the case's inner box; false
/// if the intersection is empty.
bool clampToInner(const SpecCase &c, std::vector<float> &lo, std::vector<float> &hi);

/// Random sampling of [lo, hi] (inside the inner box): corners first, then uniform.
std::optional<Counterexample> sampleBox(const BoundEngine &engine, const Spec &spec,
                                        int64_t caseIndex, const float *lo, const float *hi,
                                        int count, uint64_t seed);

/// PGD on conjunction `disjunct` of a case within [lo, hi] (inside the inner
/// box), from `starts` points (starts × inputs; random ones when null).
std::optional<Counterexample> pgd(const BoundEngine &engine, const Spec &spec, int64_t caseIndex,
                                  int64_t disjunct, const float *lo, const float *hi,
                                  const float *starts, int64_t numStarts, int steps, uint64_t seed,
                                  const StopCondition &stop, double stepFraction = 0.02);

/// Sampling then PGD on every case and conjunction, in parallel on the
/// current oneTBB arena. Deterministic for a given seed.
std::optional<Counterexample> falsify(const BoundEngine &engine, const Spec &spec,
                                      const FalsifyOptions &opts, const StopCondition &stop);

} // namespace gma::runtime

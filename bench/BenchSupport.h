//===- bench/BenchSupport.h - Timing helpers of the benchmarks --*- C++ -*-===//
#pragma once

#include <chrono>

namespace gma::bench {

/// Runs fn once to warm up, then repeatedly for at least minTime seconds;
/// returns the mean seconds per call.
template <typename F> double timeIt(F &&fn, double minTime) {
  using Clock = std::chrono::steady_clock;
  fn();
  int reps = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  do {
    fn();
    ++reps;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < minTime);
  return elapsed / reps;
}

} // namespace gma::bench

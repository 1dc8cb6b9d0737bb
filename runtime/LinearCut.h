//===- runtime/LinearCut.h - Cutting boxes with linear bounds ---*- C++ -*-===//
//
// Branch-and-bound receives, with each row bound, a linear lower bound that
// holds on the box (BoundEngine::lowerBounds): C_r·f(x) >= a_r·x + o_r. A
// conjunction needs C_r·f(x) <= d_r for all its rows, so only the part of
// the box where a_r·x <= d_r - o_r for every r can hold a counterexample.
// narrowBox shrinks the box to an enclosure of that part by interval
// constraint propagation, row by row (the bounds-consistency step of
// constraint solvers), or shows it is empty.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector>

namespace gma::runtime {

/// Narrows [lo, hi] (n floats each) to a box that keeps every x of the old
/// one with a_r·x + o_r <= d_r for all `rows` rows; `lin` holds each row's n
/// coefficients a_r then o_r (rows × (n + 1)). Returns false if no x of the
/// box satisfies them all (lo and hi are then unspecified). Sound in
/// floating point: the products of two floats are exact in double, every
/// sum is widened by a bound on its rounding error, and new bounds are
/// rounded outward to f32. Rows with a non-finite term are skipped.
bool narrowBox(const float *lin, const double *d, int64_t rows, int64_t n, std::vector<float> &lo,
               std::vector<float> &hi);

} // namespace gma::runtime

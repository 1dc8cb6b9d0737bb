//===- runtime/Result.h - Verification results as text and JSON -*- C++ -*-===//
//
// VNN-COMP's result format: the verdict on the first line (`sat`, `unsat`,
// `unknown`, `timeout`); after `sat`, the counterexample as an s-expression
//
//   ((X_0 0.10000000149011612)
//    (X_1 -0.5)
//    (Y_0 3.25))
//
// Values are the exact f32 numbers (printed as the shortest decimal that reads
// back as the same double), so a checker that parses them gets the very input
// that was confirmed.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "runtime/Bab.h"

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gma::runtime {

/// The result file's contents (ends with a newline).
std::string resultText(const BabResult &r);

/// One JSON object: verdict, time_s, statistics, reason (if any) and the
/// counterexample ({case, disjunct, x, y[, y_f64]}: y is the f32 evaluation,
/// y_f64 the independent float64 one) or null. Written by nlohmann_json,
/// so it is always valid JSON: numbers that JSON cannot represent (infinite
/// or NaN) are `null`. Callers add their own fields to the object.
nlohmann::ordered_json resultJsonObject(const BabResult &r);

/// resultJsonObject(r), serialised on one line.
std::string resultJson(const BabResult &r);

/// Writes `text` to `path` through a temporary file in the same folder and a
/// rename, so readers never see a partial file. FileWrite error on failure.
Status writeResultFile(const std::string &path, const std::string &text);

} // namespace gma::runtime

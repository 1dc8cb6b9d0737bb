//===- passes/PassUtils.h - Shared helpers for graph rewrites ---*- C++ -*-===//
//
// What every rewriting pass needs and none should reimplement: use counts kept
// current while the graph changes, new constants placed just before their first
// user, the clean-up of ops a rewrite made dead, and numpy broadcasting of
// constant data.
//
// Passes never insert ops in the middle of the schedule while they scan it
// (that would shift the indices they hold). They mutate ops in place, mark ops
// erased, and append new constants; `Rewriter::finish()` then restores a tidy
// schedule in one sweep.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Shapes.h"

#include <optional>
#include <string>
#include <vector>

namespace gma::passes {


/// A constant's data widened to double.
std::vector<double> toDouble(const ir::Weight &w);

/// Element W[k, n] of an affine weight stored as [K, N] (`transposed` false) or
/// [N, K] (`transposed` true).
inline float affineWeightAt(const ir::Weight &w, bool transposed, int64_t k, int64_t n) {
  return transposed ? w.at(n * w.type().shape[1] + k) : w.at(k * w.type().shape[1] + n);
}

/// For a binary op with exactly one constant operand, the index (0 or 1) of
/// that constant operand.
std::optional<int> constOperandIndex(const ir::Graph &g, const ir::Op &op);

/// Whether `op` is a matmul of an activation by a constant 2-D weight [K, N].
bool isMatMulByConstant(const ir::Graph &g, const ir::Op &op);

/// A rewrite session over one graph. All mutations that change operands go
/// through it so that use counts stay exact. Every edit costs O(uses) of the
/// values it touches (a use list per value, not a scan of the schedule), and
/// finish() one O(ops) pass, so a pass that edits every op stays linear.
class Rewriter {
public:
  explicit Rewriter(ir::Graph &g);

  ir::Graph &graph() { return g_; }
  /// Live uses of `v` by ops and graph outputs.
  int uses(ir::ValueId v) const { return uses_[v]; }
  /// Whether `v` has exactly one use, and that use is an op (not a graph output).
  bool hasOneOpUse(ir::ValueId v) const;
  bool isGraphOutput(ir::ValueId v) const;

  /// Appends `%r = const` of a new weight; finish() moves it before its first user.
  ir::ValueId newConst(ir::TensorType type, std::vector<float> data, std::string loc = {});
  /// Replaces all operands of the op at schedule index `i`.
  void setOperands(size_t i, std::vector<ir::ValueId> operands);
  /// Rewrites every use of `from` to `to`, in O(uses of `from`). A graph
  /// output keeps its name.
  void replaceAllUsesWith(ir::ValueId from, ir::ValueId to);
  /// Erases the op at schedule index `i`, which must have no uses left.
  void erase(size_t i);
  /// Records a change that the methods above do not see (an attribute edit).
  void markChanged() { changed_ = true; }
  bool changed() const { return changed_; }

  /// Erases ops left without uses by this rewrite (it never touches ops that
  /// were dead before), moves each new constant just before its first user and
  /// compacts the schedule. Returns whether anything changed.
  bool finish();

  /// Operand slots visited by replaceAllUsesWith so far (its cost: tests
  /// check that it is linear in the uses rewritten, not in the schedule).
  int64_t operandVisits() const { return operandVisits_; }

private:
  void noteMaybeDead(ir::ValueId v) { maybeDead_.push_back(v); }

  ir::Graph &g_;
  std::vector<int> uses_;
  /// Schedule indices of the ops that read each value (may hold stale or
  /// repeated entries after edits; readers check the op's operands).
  std::vector<std::vector<int32_t>> users_;
  int64_t operandVisits_ = 0;
  std::vector<ir::ValueId> maybeDead_;
  ir::ValueId firstNewValue_;
  bool changed_ = false;
};

} // namespace gma::passes

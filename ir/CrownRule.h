//===- ir/CrownRule.h - What a CROWN backward rule sees ---------*- C++ -*-===//
//
// Each op record's `crown` rule (ir/OpRecord.h) moves the linear coefficients
// Λ on the op's result onto its operands, adds the constant terms into c and
// charges its own floating-point error into err (docs/soundness.md: a sum of
// n terms errs by at most γ_n·Σ|terms|; |terms| is bounded with the
// magnitudes m = max(|l|, |u|) of the values the coefficients multiply).
// ir/Crown.cpp's engine implements the context; the rules live beside their
// ops' other semantics in ir/ops/. Internal to ir/ (it brings in Eigen).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostic.h"

#include "ir/Rounding.h" // crownUpRel, maxLines

#include <Eigen/Dense>

namespace gma::ir {

using CrownMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CrownVec = Eigen::VectorXd;

/// Interval bounds of one value, widened to double.
struct CrownBounds {
  CrownVec lo, hi;
  CrownVec mag() const { return lo.cwiseAbs().cwiseMax(hi.cwiseAbs()); }
};

class CrownBackward {
public:
  virtual ~CrownBackward() = default;
  virtual const Graph &graph() const = 0;
  /// Λ on the op's result: rows × numel(result).
  virtual const CrownMat &lambda() const = 0;
  /// The current interval bounds of `v` (tightened where the engine did).
  virtual CrownBounds bounds(ValueId v) const = 0;
  /// γ of a Λ term on `v` with `extra` roundings of its own (0: an exact
  /// term, 1: one rounded product) summed with v's other terms (fan-in).
  virtual double termGamma(ValueId v, int64_t extra) const = 0;
  /// c += sum, charging the add's rounding (u·|c_new|) into err.
  virtual void addConstant(const CrownVec &sum) = 0;
  /// Λ_v += m (nothing for a constant v).
  virtual void accumulate(ValueId v, const CrownMat &m) = 0;
  /// The per-row error margin, for the rule's own charges.
  virtual CrownVec &err() = 0;
  /// Lower ReLU slopes u/(u - l) instead of the adaptive 0/1.
  virtual bool parallelSlopes() const = 0;
  /// The caller's lower slopes of `v` for this pass (CrownOptions::lowerSlopes:
  /// final, non-parallel pass only), or null for the adaptive slope.
  virtual const float *lowerSlopes(ValueId v) const = 0;
};

/// Λ on a result of shape `result` moved onto an operand of shape `operand`
/// that broadcasts to it: columns that read the same operand element add up.
CrownMat crownReduceBroadcast(const CrownMat &L, const Shape &operand, const Shape &result);
/// A constant operand's values broadcast to `result`.
CrownVec crownBroadcastConst(const Graph &g, ValueId v, const Shape &result);
/// The magnitudes of `v`'s bounds broadcast to `result`.
CrownVec crownBroadcastMag(const CrownBackward &ctx, ValueId v, const Shape &result);
/// The error of a rule that CROWN cannot apply to this op (E_IrVerify).
Error crownUnsupported(const Op &op);
/// The rule of y = Sign·x (reshape, identity, neg): exact terms ±λ, which
/// round only when summed with x's other consumers' (the fan-in γ).
template <int Sign> Status crownSigned(CrownBackward &ctx, const Op &op) {
  ValueId x = op.operands[0];
  if (double gx = ctx.termGamma(x, 0); gx > 0)
    ctx.err() += gx * (ctx.lambda().cwiseAbs() * ctx.bounds(x).mag());
  ctx.accumulate(x, Sign * ctx.lambda());
  return Status::ok();
}

} // namespace gma::ir

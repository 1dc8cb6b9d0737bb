//===- ir/ops/OpSupport.cpp - Helpers shared by the op records ------------===//
#include "ir/ops/OpSupport.h"

#include "ir/Rounding.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace gma::ir::ops {

Error shapeError(std::string msg) { return Error(ErrorCode::IrVerify, std::move(msg)); }

std::string shapeStr(const Shape &s) { return fmt::format("[{}]", fmt::join(s, ",")); }

Expected<TensorType> sameShape(const ShapeArgs &a) { return a.operands[0]; }

void linearEnclosure(double lo, double hi, double bias, double mag, int64_t K, double ulpError,
                     float &outLo, float &outHi) {
  double margin = (static_cast<double>(K + 4) * kUnitRoundoff + ulpError * 0x1p-24) * mag *
                  chargeOn(RoundingCharge::AffineIbp);
  // NaN (from inf - inf) becomes the infinite endpoint in roundDown/Up.
  outLo = roundDown(lo + bias - margin);
  outHi = roundUp(hi + bias + margin);
}

Error cannotBound(const Op &op, const char *what) {
  Location loc;
  loc.node = op.loc;
  loc.opType = std::string(mnemonic(op.kind));
  return Error(ErrorCode::IrVerify,
               fmt::format("the interpreter cannot {} '{}' here", what, mnemonic(op.kind)), loc);
}

MatMulPlan planMatMul(const Shape &sa0, const Shape &sb0) {
  Shape sa = sa0, sb = sb0;
  if (sa.size() == 1)
    sa.insert(sa.begin(), 1);
  if (sb.size() == 1)
    sb.push_back(1);
  MatMulPlan p;
  p.K = sa.back();
  int64_t M = sa[sa.size() - 2], N = sb.back();
  Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  Shape batch = *broadcastShapes(batchA, batchB);
  auto ia = broadcastIndex(batchA, batch), ib = broadcastIndex(batchB, batch);
  int64_t nb = TensorType{batch}.numel();
  p.aStride = 1;
  p.bStride = N;
  for (int64_t t = 0; t < nb; ++t)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        p.aBase.push_back(ia[t] * M * p.K + m * p.K);
        p.bBase.push_back(ib[t] * p.K * N + n);
      }
  return p;
}

std::vector<int64_t> transposeSource(const Graph &g, const Op &op) {
  const Shape &is = g.type(op.operands[0]).shape, &rs = g.type(op.result).shape;
  std::vector<int64_t> perm;
  if (auto it = op.attrs.find("perm"); it != op.attrs.end())
    perm = it->second.ints;
  else
    for (int64_t d = static_cast<int64_t>(is.size()) - 1; d >= 0; --d)
      perm.push_back(d);
  Shape istr = stridesOf(is), rstr = stridesOf(rs);
  std::vector<int64_t> src(TensorType{rs}.numel());
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t rem = static_cast<int64_t>(i), from = 0;
    for (size_t d = 0; d < rs.size(); ++d) {
      from += (rem / rstr[d]) * istr[perm[d]];
      rem %= rstr[d];
    }
    src[i] = from;
  }
  return src;
}

void intervalMul(double al, double ah, double bl, double bh, double &lo, double &hi) {
  double p[4] = {al * bl, al * bh, ah * bl, ah * bh};
  lo = hi = p[0];
  for (double v : p) {
    if (std::isnan(v)) {
      lo = -std::numeric_limits<double>::infinity();
      hi = std::numeric_limits<double>::infinity();
      return;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
}

Shape randomShape(std::mt19937_64 &rng, int minRank, int maxRank, int64_t maxDim) {
  int rank = std::uniform_int_distribution<int>(minRank, maxRank)(rng);
  Shape s(rank);
  for (int64_t &d : s)
    d = std::uniform_int_distribution<int64_t>(1, maxDim)(rng);
  return s;
}

std::vector<float> randomData(std::mt19937_64 &rng, int64_t n, float scale, float floor) {
  std::uniform_real_distribution<float> d(floor, scale);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = sign(rng) ? d(rng) : -d(rng);
  return v;
}

Graph instanceOf(std::mt19937_64 &rng, OpKind kind, const std::vector<TensorType> &operands,
                 const std::vector<bool> &constant, Attrs attrs, const TensorType *declared,
                 float constFloor) {
  Graph g;
  g.name = std::string(mnemonic(kind)) + "_instance";
  std::vector<ValueId> vals;
  for (size_t i = 0; i < operands.size(); ++i)
    vals.push_back(constant[i] ? g.addConst("w" + std::to_string(i), operands[i],
                                            randomData(rng, operands[i].numel(), 4.0f,
                                                       constFloor))
                               : g.addInput("x" + std::to_string(i), operands[i]));
  ShapeArgs args{operands, attrs, declared};
  auto type = opRecord(kind).shape(args);
  if (!type)
    return Graph{};
  ValueId r = g.addOp(kind, vals, *type, std::move(attrs));
  g.values[r].name = "y";
  g.outputs = {r};
  return g;
}

} // namespace gma::ir::ops

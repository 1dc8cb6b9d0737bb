//===- test/unit/codegen/TestSupport.h - Hand-built planned graphs -*- C++ -*-===//
//
// Helpers for the codegen tests:
// - `GraphBuilder` builds small ir::Graphs and sets the buffer plan by hand
//   (`buffer = [region, offset]` on each op, `arena` on the graph), as
//   plan-buffers would;
// - `exactForward` evaluates a graph in long double for one sample: the "real
//   semantics" output that IBP bounds must contain (docs/soundness.md);
//   `exactValues` returns every value of that evaluation;
// - random inputs and boxes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/ConvGeometry.h"
#include "ir/Graph.h"
#include "ir/Interpreter.h"

#include <cmath>
#include <random>
#include <vector>

namespace gma::test {

using ir::Attribute;
using ir::Graph;
using ir::OpKind;
using ir::TensorType;
using ir::ValueId;

struct GraphBuilder {
  Graph g;

  ValueId input(ir::Shape s) { return g.addInput("x", TensorType{std::move(s)}); }
  ValueId constant(ir::Shape s, std::vector<float> data) {
    return g.addConst("", TensorType{std::move(s)}, std::move(data));
  }
  /// Appends an op and gives it `buffer = [region, offset]` (region < 0: none).
  ValueId op(OpKind k, std::vector<ValueId> operands, ir::Shape result, int region = -1,
             int64_t offset = 0, ir::Attrs attrs = {}) {
    if (region >= 0)
      attrs["buffer"] = Attribute::list({region, offset});
    return g.addOp(k, std::move(operands), TensorType{std::move(result)}, std::move(attrs));
  }
  void finish(ValueId out, int64_t arena) {
    g.outputs = {out};
    if (arena >= 0)
      g.attrs["arena"] = Attribute::scalar(arena);
  }
};

inline std::vector<float> randomVector(std::mt19937 &rng, int64_t n, float scale = 1.0f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = d(rng);
  return v;
}

/// `affine x, W, b` with W [k, n] and b [n] drawn uniformly from ±wScale and
/// ±bScale (W first, then b, from `rng`); `region`/`offset` as GraphBuilder::op.
inline ValueId randomAffine(GraphBuilder &gb, std::mt19937 &rng, ValueId x, int64_t k, int64_t n,
                            float wScale = 1.0f, float bScale = 1.0f, int region = -1,
                            int64_t offset = 0) {
  ValueId w = gb.constant({k, n}, randomVector(rng, k * n, wScale));
  ValueId b = gb.constant({n}, randomVector(rng, n, bScale));
  return gb.op(OpKind::Affine, {x, w, b}, {n}, region, offset);
}

/// Index in `operand` read by element i of `result` under numpy broadcasting.
inline int64_t broadcastAt(const ir::Shape &operand, const ir::Shape &result, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (int64_t d = static_cast<int64_t>(result.size()) - 1; d >= 0; --d) {
    int64_t coord = i % result[d];
    i /= result[d];
    int64_t od = d - static_cast<int64_t>(result.size() - operand.size());
    if (od >= 0) {
      if (operand[od] != 1)
        idx += coord * stride;
      stride *= operand[od];
    }
  }
  return idx;
}

/// Every value of `g` (indexed by ValueId) for one input sample, in long
/// double (the ops the kernels support).
inline std::vector<std::vector<long double>> exactValues(const Graph &g,
                                                         const std::vector<float> &x) {
  std::vector<std::vector<long double>> v(g.values.size());
  v[g.inputs[0]].assign(x.begin(), x.end());
  for (const ir::Op &op : g.ops) {
    const ir::Shape &rs = g.type(op.result).shape;
    int64_t n = g.type(op.result).numel();
    if (op.kind == OpKind::Const) {
      const ir::Weight &w = g.weights.get(op.weight);
      v[op.result].assign(w.data(), w.data() + w.numel());
      continue;
    }
    auto &in0 = v[op.operands[0]];
    auto &r = v[op.result];
    r.assign(static_cast<size_t>(n), 0.0L);
    switch (op.kind) {
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: {
      auto &in1 = v[op.operands[1]];
      const ir::Shape &s0 = g.type(op.operands[0]).shape, &s1 = g.type(op.operands[1]).shape;
      for (int64_t i = 0; i < n; ++i) {
        long double a = in0[broadcastAt(s0, rs, i)], b = in1[broadcastAt(s1, rs, i)];
        r[i] = op.kind == OpKind::Add   ? a + b
               : op.kind == OpKind::Sub ? a - b
               : op.kind == OpKind::Mul ? a * b
                                        : a / b;
      }
      break;
    }
    case OpKind::Neg:
      for (int64_t i = 0; i < n; ++i)
        r[i] = -in0[i];
      break;
    case OpKind::Relu:
      for (int64_t i = 0; i < n; ++i)
        r[i] = in0[i] < 0 ? 0.0L : in0[i];
      break;
    case OpKind::Sigmoid:
      for (int64_t i = 0; i < n; ++i)
        r[i] = 1.0L / (1.0L + std::exp(-in0[i]));
      break;
    case OpKind::LeakyRelu: {
      const long double alpha = v[op.operands[1]][0];
      for (int64_t i = 0; i < n; ++i)
        r[i] = in0[i] < 0 ? alpha * in0[i] : in0[i];
      break;
    }
    case OpKind::Max: {
      auto &in1 = v[op.operands[1]];
      for (int64_t i = 0; i < n; ++i)
        r[i] = in0[i] < in1[i] ? in1[i] : in0[i];
      break;
    }
    case OpKind::Reshape:
    case OpKind::Identity:
      r = in0;
      break;
    case OpKind::Affine:
    case OpKind::MatMul: {
      auto &w = v[op.operands[1]];
      bool tr = op.kind == OpKind::Affine && op.intAttr("transposed") != 0;
      const ir::Shape &ws = g.type(op.operands[1]).shape;
      int64_t K = g.type(op.operands[0]).shape.back();
      int64_t N = ws.size() == 1 ? 1 : (tr ? ws[0] : ws[1]);
      int64_t rows = n / N;
      for (int64_t row = 0; row < rows; ++row)
        for (int64_t j = 0; j < N; ++j) {
          long double acc = 0;
          for (int64_t k = 0; k < K; ++k)
            acc += in0[row * K + k] * (tr ? w[j * K + k] : w[k * N + j]);
          if (op.kind == OpKind::Affine) {
            auto &bias = v[op.operands[2]];
            acc += bias.size() == 1 ? bias[0] : bias[j];
          }
          r[row * N + j] = acc;
        }
      break;
    }
    case OpKind::Conv: {
      auto gm = ir::convGeometry(g.type(op.operands[0]), g.type(op.operands[1]), op.attrs);
      auto &w = v[op.operands[1]], &bias = v[op.operands[2]];
      const int64_t k = gm->k, cpg = gm->C / gm->group, mpg = gm->M / gm->group;
      int64_t outSp = 1, inSp = 1, kSp = 1;
      for (int64_t d = 0; d < k; ++d) {
        outSp *= gm->out[d];
        inSp *= gm->in[d];
        kSp *= gm->kernel[d];
      }
      for (int64_t i = 0; i < n; ++i) {
        int64_t os = i % outSp, m = (i / outSp) % gm->M, nn = i / (outSp * gm->M);
        long double acc = bias[m];
        for (int64_t c = 0; c < cpg; ++c)
          for (int64_t ks = 0; ks < kSp; ++ks) {
            int64_t xi = 0, wi = 0, orem = os, krem = ks, oStr = outSp, iStr = inSp, kStr = kSp;
            bool inside = true;
            for (int64_t d = 0; d < k; ++d) {
              oStr /= gm->out[d];
              iStr /= gm->in[d];
              kStr /= gm->kernel[d];
              int64_t od = orem / oStr, kd = krem / kStr;
              orem %= oStr;
              krem %= kStr;
              int64_t pos = od * gm->strides[d] - gm->padBegin[d] + kd * gm->dilations[d];
              inside = inside && pos >= 0 && pos < gm->in[d];
              xi += pos * iStr;
              wi += kd * kStr;
            }
            if (inside)
              acc += in0[(nn * gm->C + (m / mpg) * cpg + c) * inSp + xi] *
                     w[(m * cpg + c) * kSp + wi];
          }
        r[i] = acc;
      }
      break;
    }
    default:
      break;
    }
  }
  return v;
}

/// The graph's single output for one input sample (exactValues).
inline std::vector<long double> exactForward(const Graph &g, const std::vector<float> &x) {
  return exactValues(g, x)[g.outputs[0]];
}

// x[1,6] -> reshape[6] -> affine(6->10) -> relu (in place) -> reshape[2,5]
// -> reshape[10] -> affine(10->4, transposed W) -> reshape[1,4].
inline Graph mlpWithViews(std::mt19937 &rng) {
  GraphBuilder gb;
  ValueId x = gb.input({1, 6});
  ValueId v = gb.op(OpKind::Reshape, {x}, {6}, 1, 0);
  ValueId w1 = gb.constant({6, 10}, randomVector(rng, 60));
  ValueId b1 = gb.constant({10}, randomVector(rng, 10));
  ValueId h = gb.op(OpKind::Affine, {v, w1, b1}, {10}, 0, 0);
  ValueId r = gb.op(OpKind::Relu, {h}, {10}, 0, 0);
  ValueId r2 = gb.op(OpKind::Reshape, {r}, {2, 5}, 0, 0);
  ValueId r3 = gb.op(OpKind::Reshape, {r2}, {10}, 0, 0);
  ValueId w2 = gb.constant({4, 10}, randomVector(rng, 40));
  ValueId b2 = gb.constant({4}, randomVector(rng, 4));
  ValueId o = gb.op(OpKind::Affine, {r3, w2, b2}, {4}, 2, 0, {{"transposed", Attribute::scalar(1)}});
  ValueId o2 = gb.op(OpKind::Reshape, {o}, {1, 4}, 2, 0);
  gb.finish(o2, 10);
  return std::move(gb.g);
}

} // namespace gma::test

//===- test/unit/passes/TestGraphs.h - Graphs for pass tests ----*- C++ -*-===//
//
// Helpers shared by the pass unit tests: parse a graph from text, run one pass
// by name, and build random MLP-like graphs with the shapes real models have
// (ONNX-style normalisation, flatten, Gemm with transB, MatMul + Add, ReLU,
// back-to-back linear layers).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "passes/PassUtils.h"

#include <cmath>

#include <gtest/gtest.h>
#include <random>

namespace gma::testing {

inline ir::Graph parse(const char *text) {
  auto g = ir::parseGraph(text);
  EXPECT_TRUE(static_cast<bool>(g)) << (g ? "" : g.error().str());
  return g ? std::move(*g) : ir::Graph{};
}

/// Runs a comma-separated pipeline with verification after each pass.
inline void runPasses(ir::Graph &g, const std::string &pipeline) {
  auto p = passes::parsePipeline(pipeline);
  ASSERT_TRUE(static_cast<bool>(p)) << p.error().str();
  passes::PipelineOptions opts;
  opts.verifyEach = true;
  Status s = passes::runPipeline(g, *p, opts);
  ASSERT_TRUE(static_cast<bool>(s)) << s.error().str();
}

/// Ops left in the schedule of a given kind.
inline int countOps(const ir::Graph &g, ir::OpKind kind) {
  int n = 0;
  for (const ir::Op &op : g.ops)
    n += op.kind == kind;
  return n;
}

inline std::vector<float> randomData(std::mt19937 &rng, int64_t n, float scale = 1.0f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = d(rng);
  return v;
}

/// A random MLP in the styles the frontend emits. Every layer choice is drawn
/// from `rng`, so a seed names one graph.
inline ir::Graph randomMlp(std::mt19937 &rng) {
  using namespace ir;
  std::uniform_int_distribution<int> width(2, 9), coin(0, 1), layers(1, 4), style(0, 3);
  Graph g;
  g.name = "mlp";
  int64_t k = width(rng);
  ValueId x = g.addInput("x", TensorType{{1, 1, 1, k}});
  // Normalisation (x - mean) / std, per feature or by a scalar, then flatten.
  if (coin(rng)) {
    ValueId m = g.addConst("", TensorType{{1, 1, 1, k}}, randomData(rng, k));
    x = g.addOp(OpKind::Sub, {x, m}, TensorType{{1, 1, 1, k}});
    std::vector<float> s = randomData(rng, k);
    for (float &v : s)
      v = 0.25f + std::fabs(v);
    ValueId sc = g.addConst("", TensorType{{k}}, s);
    x = g.addOp(OpKind::Div, {x, sc}, TensorType{{1, 1, 1, k}});
  }
  x = g.addOp(OpKind::Reshape, {x}, TensorType{{1, k}});
  int n = layers(rng);
  for (int l = 0; l < n; ++l) {
    int64_t m = width(rng);
    switch (style(rng)) {
    case 0: { // MatMul + Add
      ValueId w = g.addConst("", TensorType{{k, m}}, randomData(rng, k * m));
      x = g.addOp(OpKind::MatMul, {x, w}, TensorType{{1, m}});
      ValueId b = g.addConst("", TensorType{{m}}, randomData(rng, m));
      x = g.addOp(OpKind::Add, {x, b}, TensorType{{1, m}});
      break;
    }
    case 1: { // Gemm with transB
      ValueId w = g.addConst("", TensorType{{m, k}}, randomData(rng, k * m));
      ValueId b = g.addConst("", TensorType{{m}}, randomData(rng, m));
      x = g.addOp(OpKind::Affine, {x, w, b}, TensorType{{1, m}},
                  {{"transposed", Attribute::scalar(1)}});
      break;
    }
    case 2: { // MatMul alone, through an identity (Dropout)
      x = g.addOp(OpKind::Identity, {x}, TensorType{{1, k}});
      ValueId w = g.addConst("", TensorType{{k, m}}, randomData(rng, k * m));
      x = g.addOp(OpKind::MatMul, {x, w}, TensorType{{1, m}});
      break;
    }
    default: { // Gemm, with a reshape round trip after it
      ValueId w = g.addConst("", TensorType{{k, m}}, randomData(rng, k * m));
      ValueId b = g.addConst("", TensorType{{m}}, randomData(rng, m));
      x = g.addOp(OpKind::Affine, {x, w, b}, TensorType{{1, m}},
                  {{"transposed", Attribute::scalar(0)}});
      x = g.addOp(OpKind::Reshape, {x}, TensorType{{m}});
      x = g.addOp(OpKind::Reshape, {x}, TensorType{{1, m}});
      break;
    }
    }
    k = m;
    // Sometimes no activation: back-to-back linear layers for fuse-affine.
    if (l + 1 < n && coin(rng))
      x = g.addOp(coin(rng) ? OpKind::Relu : OpKind::Sigmoid, {x}, TensorType{{1, k}});
  }
  g.outputs.push_back(x);
  g.values[x].name = "y";
  return g;
}

/// The exact output of a one-sample forward pass, in long double: the "real
/// semantics" of docs/soundness.md that IBP bounds must contain. (The
/// interpreter's f32 `evaluate` may differ from it by f32 accumulation error,
/// which the bounds deliberately do not cover.)
inline std::vector<long double> exactEvaluate(const ir::Graph &g, const std::vector<float> &input) {
  using namespace ir;
  std::vector<std::vector<long double>> val(g.values.size());
  val[g.inputs[0]].assign(input.begin(), input.end());
  for (const Op &op : g.ops) {
    const Shape &rs = g.type(op.result).shape;
    std::vector<long double> &r = val[op.result];
    auto arg = [&](int k) -> const std::vector<long double> & { return val[op.operands[k]]; };
    switch (op.kind) {
    case OpKind::Const: {
      const Weight &w = g.weights.get(op.weight);
      r.assign(w.data(), w.data() + w.numel());
      break;
    }
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: {
      auto ia = ir::broadcastIndex(g.type(op.operands[0]).shape, rs);
      auto ib = ir::broadcastIndex(g.type(op.operands[1]).shape, rs);
      for (size_t i = 0; i < ia.size(); ++i) {
        long double a = arg(0)[ia[i]], b = arg(1)[ib[i]];
        r.push_back(op.kind == OpKind::Add   ? a + b
                    : op.kind == OpKind::Sub ? a - b
                    : op.kind == OpKind::Mul ? a * b
                                             : a / b);
      }
      break;
    }
    case OpKind::Neg:
      for (long double v : arg(0))
        r.push_back(-v);
      break;
    case OpKind::Relu:
      for (long double v : arg(0))
        r.push_back(v > 0 ? v : 0);
      break;
    case OpKind::Sigmoid:
      for (long double v : arg(0))
        r.push_back(1 / (1 + std::exp(-v)));
      break;
    case OpKind::Reshape:
    case OpKind::Identity:
      r = arg(0);
      break;
    case OpKind::MatMul:
    case OpKind::Affine: {
      // Activation [..., K] times a constant [K, N] (or [N, K] if transposed).
      bool tr = op.kind == OpKind::Affine && op.intAttr("transposed") != 0;
      const Shape &ws = g.type(op.operands[1]).shape;
      int64_t K = tr ? ws[1] : ws[0], N = tr ? ws[0] : ws[1];
      int64_t rows = static_cast<int64_t>(arg(0).size()) / K;
      for (int64_t m = 0; m < rows; ++m)
        for (int64_t n = 0; n < N; ++n) {
          long double acc = op.kind == OpKind::Affine ? arg(2)[n] : 0;
          for (int64_t k = 0; k < K; ++k)
            acc += arg(0)[m * K + k] * arg(1)[tr ? n * K + k : k * N + n];
          r.push_back(acc);
        }
      break;
    }
    default: // the random graphs here use none of the other kinds
      ADD_FAILURE() << "exactEvaluate does not implement " << mnemonic(op.kind);
      break;
    }
  }
  return val[g.outputs[0]];
}

} // namespace gma::testing

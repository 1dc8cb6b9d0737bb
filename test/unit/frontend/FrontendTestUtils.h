//===- test/unit/frontend/FrontendTestUtils.h - Shared test helpers -*- C++ -*-===//
//
// Helpers for the ONNX importer tests: paths of the generated models, the
// sequence of non-constant ops of a graph, and shape shorthands.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/onnx/OnnxImporter.h"
#include "ir/Graph.h"
#include "ir/OpKinds.h"

#include <string>
#include <vector>

namespace gma::frontend {

/// test/models/<name>.
inline std::string modelPath(const std::string &name) {
  return std::string(GAMMA_SOURCE_DIR) + "/test/models/" + name;
}

/// Mnemonics of the graph's ops in schedule order, const ops left out.
inline std::vector<std::string> opSequence(const ir::Graph &g) {
  std::vector<std::string> seq;
  for (const ir::Op &op : g.ops)
    if (op.kind != ir::OpKind::Const)
      seq.emplace_back(ir::mnemonic(op.kind));
  return seq;
}

/// The non-const ops of the graph, in schedule order.
inline std::vector<const ir::Op *> computeOps(const ir::Graph &g) {
  std::vector<const ir::Op *> ops;
  for (const ir::Op &op : g.ops)
    if (op.kind != ir::OpKind::Const)
      ops.push_back(&op);
  return ops;
}

inline ir::Shape inputShape(const ir::Graph &g, size_t i = 0) {
  return g.type(g.inputs.at(i)).shape;
}

inline ir::Shape outputShape(const ir::Graph &g, size_t i = 0) {
  return g.type(g.outputs.at(i)).shape;
}

} // namespace gma::frontend

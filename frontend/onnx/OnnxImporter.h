//===- frontend/onnx/OnnxImporter.h - ONNX to gamma IR ----------*- C++ -*-===//
//
// Reads an ONNX model through the protobuf classes Debian's libonnx-dev ships
// and builds an ir::Graph: static shapes, weights in the weight store, and the
// integer shape sub-graphs exporters emit (Shape → Gather → Concat → Reshape,
// Cast, Unsqueeze of constants) folded away at import. Every rejection names the
// file, node, op type and opset, with a stable error code.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostic.h"
#include "ir/Graph.h"

#include <string>

namespace gamma::frontend {

struct OnnxImportOptions {
  /// Size given to symbolic (dynamic) dimensions of graph inputs, e.g. the batch.
  int64_t dynamicDimSize = 1;
};

/// Imports the model in `path`. The graph is named after the file's stem.
Expected<ir::Graph> importOnnxFile(const std::string &path, const OnnxImportOptions &opts = {});

/// Imports a serialized ModelProto; `fileName` is used in errors only.
Expected<ir::Graph> importOnnxBytes(const std::string &bytes, const std::string &fileName,
                                    const OnnxImportOptions &opts = {});

} // namespace gamma::frontend

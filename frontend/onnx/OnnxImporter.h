//===- frontend/onnx/OnnxImporter.h - ONNX to gamma IR ----------*- C++ -*-===//
//
// Reads an ONNX model through the protobuf classes Debian's libonnx-dev ships
// and builds an ir::Graph: static shapes, weights in the weight store, and the
// integer shape sub-graphs exporters emit (Shape → Gather → Concat → Reshape,
// Cast, Unsqueeze of constants) folded away at import. Every rejection names the
// file, node, op type and opset, with a stable error code.
//
// Supported: default-domain opsets 7-21; float32 activations and weights;
// int64/int32/bool tensors as shape data only. Operators: Gemm, MatMul, Add,
// Sub, Mul, Div, Neg, Relu, Sigmoid, Flatten, Reshape, Squeeze, Unsqueeze,
// Transpose, Identity, Dropout (inference), Constant, and the integer shape
// operators Shape, Gather, Concat, Cast, Slice, Equal, Where.
// Weights are referenced in place: in the parsed protobuf, or in a
// memory-mapped external-data file (kept alive by ir::Weight's owner).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"

#include <string>
#include <string_view>

namespace gma::frontend {

struct OnnxImportOptions {
  /// Size given to symbolic (dynamic) dimensions of graph inputs, e.g. the batch.
  int64_t dynamicDimSize = 1;
};

/// Imports the model in `path`. The graph is named after the file's stem;
/// external-data locations are relative to the file's folder.
Expected<ir::Graph> importOnnxFile(const std::string &path, const OnnxImportOptions &opts = {});

/// Imports a serialized ModelProto. `fileName` names the graph and appears in
/// errors; external-data locations are relative to its folder. To read a
/// model file safely (no FIFO hang, size checked before reading), map it with
/// support::mapInputFile (support/InputFile.h) and pass its bytes().
Expected<ir::Graph> importOnnxBytes(std::string_view bytes, const std::string &fileName,
                                    const OnnxImportOptions &opts = {});

} // namespace gma::frontend

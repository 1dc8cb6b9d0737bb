//===- frontend/onnx/ImportContext.h - State of one ONNX import -*- C++ -*-===//
//
// The ONNX importer walks the model's nodes in order and keeps a side table from
// each ONNX tensor name to what it stands for: an IR value (an activation, or a
// float constant already materialised as a `const` op) or a tensor known at
// import time (`ConstTensor`: integer shape data, or float weights not yet
// needed in the graph). Integer shape sub-graphs are evaluated on that table and
// never reach the IR.
//
// `NodeLowering` is the view one operator's lowering function gets: its
// attributes, its operands looked up in the table, a way to emit IR ops whose
// result types come from ir/Shapes.h, and errors located at the node. This
// header is internal to frontend/onnx; the protobuf classes stay in the .cpp
// files behind forward declarations.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/onnx/OnnxImporter.h"
#include "support/Diagnostic.h"
#include "ir/Graph.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace onnx {
class AttributeProto;
class ModelProto;
class NodeProto;
class TensorProto;
} // namespace onnx

namespace gma::frontend {

class ExternalDataFiles;

/// A tensor whose contents are known at import time.
///
/// Integer tensors (int64, int32 and bool in ONNX) hold shape data and are kept
/// as int64. Float tensors point at their data without owning a copy when they
/// can: into the parsed protobuf or into a memory-mapped external-data file,
/// kept alive by `owner`.
struct ConstTensor {
  enum class Kind { Int, Float };

  Kind kind = Kind::Int;
  ir::Shape shape;
  std::vector<int64_t> ints;         ///< Kind::Int: the elements, row-major.
  std::shared_ptr<const void> owner; ///< Kind::Float: keeps `floats` alive.
  const float *floats = nullptr;     ///< Kind::Float: numel() elements.

  static ConstTensor ofInts(ir::Shape shape, std::vector<int64_t> data);
  static ConstTensor ofFloats(ir::Shape shape, std::vector<float> data);
  static ConstTensor ofFloatView(ir::Shape shape, std::shared_ptr<const void> owner,
                                 const float *data);

  bool isInt() const { return kind == Kind::Int; }
  bool isFloat() const { return kind == Kind::Float; }
  int64_t numel() const;
  /// The same elements under another shape of equal element count (no copy).
  ConstTensor withShape(ir::Shape newShape) const;
  /// The float elements as a vector (a copy; Kind::Float only).
  std::vector<float> floatVector() const;
};

/// What one ONNX tensor name stands for during import.
struct TensorEntry {
  /// The IR value: an activation, or `constant` once materialised as a const op.
  ir::ValueId value = ir::kNoValue;
  /// The contents when known at import time.
  std::optional<ConstTensor> constant;
  /// Name for the weight created when `constant` is materialised.
  std::string weightName;
};

/// Per-import state shared by all node lowerings.
/// The most elements any imported value (input or op result) may have:
/// an input box of 2^28 floats already takes 2 GiB (its lower and upper
/// bounds), and CROWN's state grows with it. Larger is a corrupt or hostile
/// shape (a Pad of 2^40 rows), refused before anything is allocated.
constexpr int64_t kMaxValueElements = int64_t(1) << 28;

struct ImportContext {
  ir::Graph &graph;
  std::string file;     ///< For error locations.
  std::string modelDir; ///< External-data paths are relative to this folder.
  int64_t opset = 0;    ///< Version of the default ("ai.onnx") domain.
  OnnxImportOptions opts;
  /// Keeps the parsed model alive for weights that point into it.
  std::shared_ptr<const onnx::ModelProto> model;
  /// Memory mappings of the model's external-data files.
  ExternalDataFiles *external = nullptr;
  std::map<std::string, TensorEntry> tensors;
  /// Tensor names read by some node or listed as graph outputs.
  std::set<std::string> consumed;

  ImportContext(ir::Graph &g, std::string file, std::string modelDir, OnnxImportOptions opts)
      : graph(g), file(std::move(file)), modelDir(std::move(modelDir)), opts(opts) {}

  /// The IR value of an entry, materialising a float constant as a const op
  /// (once; later uses share it). Integer constants have no IR value.
  std::optional<ir::ValueId> materialize(TensorEntry &entry);
  /// Adds a const op for `c` (Kind::Float) as a weight called `name`.
  ir::ValueId addWeight(const ConstTensor &c, std::string name);
};

/// One ONNX node being lowered: attributes, operands, results and errors.
class NodeLowering {
public:
  NodeLowering(ImportContext &ctx, const onnx::NodeProto &node, int index);

  ImportContext &context() { return ctx_; }
  ir::Graph &graph() { return ctx_.graph; }
  const std::string &opType() const;
  int64_t opset() const { return ctx_.opset; }
  /// The IR op location: the node's name, or "<OpType>_<index>".
  const std::string &irLoc() const { return irLoc_; }
  /// An error located at this node (file, node name or "#<index>", op and opset).
  Error error(ErrorCode code, std::string message) const;
  /// Adds this node's location to an error that has none.
  Error locate(Error err) const;

  // --- Operands ----------------------------------------------------------
  /// Number of inputs listed (including empty optional ones).
  size_t numInputs() const;
  /// True if input `i` is listed with a non-empty name.
  bool hasInput(size_t i) const;
  const std::string &inputName(size_t i) const;
  /// The table entry of input `i`; OnnxMissingInput if absent or undefined.
  Expected<TensorEntry *> input(size_t i);
  /// Input `i` as an IR value (float constants are materialised); integer
  /// shape data is rejected with OnnxUnsupportedType.
  Expected<ir::ValueId> value(size_t i);
  /// Input `i` as an import-time constant, or nullptr if it is computed at run
  /// time. Errors only when the input is missing.
  Expected<const ConstTensor *> maybeConstant(size_t i);
  /// Input `i` as an import-time constant; OnnxNonConstant otherwise.
  Expected<const ConstTensor *> constant(size_t i, const char *what);
  /// Input `i` as a list of integers (an integer constant of rank <= 1).
  Expected<std::vector<int64_t>> constInts(size_t i, const char *what);
  /// The static type of input `i`: its IR type or its constant's shape.
  Expected<ir::Shape> shapeOf(size_t i);

  // --- Attributes ----------------------------------------------------------
  // A present attribute of the wrong kind records an OnnxMalformed error that
  // the caller reports after the lowering function returns (`attrError()`);
  // the getter then returns the default.
  bool hasAttr(const char *name) const;
  int64_t intAttr(const char *name, int64_t dflt);
  float floatAttr(const char *name, float dflt);
  std::optional<std::vector<int64_t>> intsAttr(const char *name);
  std::optional<std::vector<float>> floatsAttr(const char *name);
  std::optional<std::string> stringAttr(const char *name);
  const onnx::TensorProto *tensorAttr(const char *name);
  /// Names of attributes that are set, for "unsupported attribute" checks.
  std::vector<std::string> attrNames() const;
  const std::optional<Error> &attrError() const { return attrError_; }

  // --- Results -------------------------------------------------------------
  size_t numOutputs() const;
  const std::string &outputName(size_t i) const;
  /// True if output `i` is read by another node or is a graph output.
  bool outputUsed(size_t i) const;
  /// Emits an IR op at this node's location; its type comes from
  /// ir::inferResultType (`declared` for reshape). Shape errors become
  /// OnnxShapeMismatch errors located at this node.
  Expected<ir::ValueId> emit(ir::OpKind kind, std::vector<ir::ValueId> operands,
                             ir::Attrs attrs = {}, const ir::TensorType *declared = nullptr);
  /// Binds output `i` to an IR value or to an import-time constant.
  void define(size_t i, ir::ValueId v);
  void define(size_t i, ConstTensor c);
  /// Binds output `i` to what `entry` stands for (Identity of a constant).
  void alias(size_t i, const TensorEntry &entry);

private:
  const onnx::AttributeProto *findAttr(const char *name, int expectedType);
  void attrKindError(const char *name);

  ImportContext &ctx_;
  const onnx::NodeProto &node_;
  int index_;
  std::string irLoc_;
  Location loc_;
  std::optional<Error> attrError_;
};

/// Wraps a user error about a model's tensor with a location.
inline Error withLocation(Error err, const Location &loc) {
  if (err.location().file.empty() && err.location().node.empty())
    err.location() = loc;
  return err;
}

} // namespace gma::frontend

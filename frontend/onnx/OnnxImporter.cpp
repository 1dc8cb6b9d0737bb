//===- frontend/onnx/OnnxImporter.cpp - ONNX to gamma IR ------------------===//
//
// The model-level walk:
//
// 1. Parse the ModelProto (a file is memory-mapped and parsed in place) and
//    find the default domain's opset; opsets 7-21 are accepted. Opset 7 is
//    where Add/Sub/Mul/Div took numpy broadcasting and Gemm/Dropout their
//    current attributes; VNN-COMP's ACAS Xu networks are opset 8.
// 2. Decode the initializers that some node reads (float data is referenced
//    in place) and create a graph input for every graph input that is not an
//    initializer, with symbolic dimensions set to `dynamicDimSize`.
// 3. Lower the nodes in file order (ONNX requires a topological order) through
//    the table of lowering functions.
// 4. Bind the graph outputs, in order, checking them against the declared
//    output shapes.
//
// Nothing here throws: protobuf reports failures through return values, and a
// final catch turns allocation failures into errors rather than crashes.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/OnnxImporter.h"

#include "frontend/onnx/ImportContext.h"
#include "frontend/onnx/Lowering.h"
#include "frontend/onnx/TensorData.h"
#include "support/InputFile.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <set>

namespace gma::frontend {

using support::mapInputFile;
namespace {

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 21;
/// Every dimension must fit the 32-bit loop bounds of generated kernels; the
/// element count of inputs is limited by kMaxValueElements.
constexpr int64_t kMaxDimension = (int64_t(1) << 31) - 1;

const std::map<std::string, LowerFn> &loweringTable() {
  static const std::map<std::string, LowerFn> table = {
      {"Add", lowerAdd},
      {"AveragePool", lowerAveragePool},
      {"BatchNormalization", lowerBatchNormalization},
      {"GlobalAveragePool", lowerGlobalAveragePool},
      {"Cast", lowerCast},
      {"Concat", lowerConcat},
      {"Clip", lowerClip},
      {"Constant", lowerConstant},
      {"ConstantOfShape", lowerConstantOfShape},
      {"Conv", lowerConv},
      {"Div", lowerDiv},
      {"Dropout", lowerDropout},
      {"Equal", lowerEqual},
      {"Flatten", lowerFlatten},
      {"Gather", lowerGather},
      {"Gemm", lowerGemm},
      {"Identity", lowerIdentity},
      {"MatMul", lowerMatMul},
      {"Max", lowerMax},
      {"MaxPool", lowerMaxPool},
      {"Mul", lowerMul},
      {"Neg", lowerNeg},
      {"Pad", lowerPad},
      {"ReduceMean", lowerReduceMean},
      {"ReduceSum", lowerReduceSum},
      {"Relu", lowerRelu},
      {"Reshape", lowerReshape},
      {"Shape", lowerShape},
      {"Sigmoid", lowerSigmoid},
      {"Softplus", lowerSoftplus},
      {"Tanh", lowerTanh},
      {"Exp", lowerExp},
      {"Expand", lowerExpand},
      {"Split", lowerSplit},
      {"Resize", lowerResize},
      {"Upsample", lowerUpsample},
      {"LeakyRelu", lowerLeakyRelu},
      {"Slice", lowerSlice},
      {"Squeeze", lowerSqueeze},
      {"Sub", lowerSub},
      {"Transpose", lowerTranspose},
      {"Unsqueeze", lowerUnsqueeze},
      {"Where", lowerWhere},
  };
  return table;
}

bool isDefaultDomain(const std::string &domain) { return domain.empty() || domain == "ai.onnx"; }

/// Builds the graph from a parsed model.
class ModelImporter {
public:
  ModelImporter(std::shared_ptr<const onnx::ModelProto> model, ImportContext &ctx)
      : model_(*model), ctx_(ctx), external_(ctx.modelDir) {
    ctx_.model = std::move(model);
    ctx_.external = &external_;
  }

  const ExternalDataFiles &external() const { return external_; }

  Status run() {
    if (Status s = readOpset(); !s)
      return s;
    const onnx::GraphProto &g = model_.graph();
    for (const onnx::NodeProto &node : g.node())
      for (const std::string &in : node.input())
        ctx_.consumed.insert(in);
    for (const onnx::ValueInfoProto &out : g.output())
      ctx_.consumed.insert(out.name());

    if (Status s = readInitializers(); !s)
      return s;
    if (Status s = readInputs(); !s)
      return s;
    for (const onnx::NodeProto &node : g.node())
      for (const std::string &out : node.output())
        if (!out.empty() && !defined_.insert(out).second)
          return error(ErrorCode::OnnxRedefinition,
                       fmt::format("tensor '{}' is defined twice (ONNX graphs are in SSA "
                                   "form: each name has one producer)",
                                   out),
                       node.name(), node.op_type());
    for (int i = 0; i < g.node_size(); ++i)
      if (Status s = lowerNode(g.node(i), i); !s)
        return s;
    return bindOutputs();
  }

private:
  Error error(ErrorCode code, std::string msg, std::string node = {}, std::string what = {}) {
    return Error(code, std::move(msg), Location{ctx_.file, std::move(node), std::move(what)});
  }

  Status readOpset() {
    bool found = false;
    for (const onnx::OperatorSetIdProto &op : model_.opset_import()) {
      if (!isDefaultDomain(op.domain()))
        continue;
      // Some exporters list the default domain twice; the newest version rules.
      ctx_.opset = found ? std::max(ctx_.opset, op.version()) : op.version();
      found = true;
    }
    if (!found)
      return error(ErrorCode::OnnxOpset, "the model imports no opset of the default ONNX domain");
    if (ctx_.opset < kMinOpset || ctx_.opset > kMaxOpset)
      return error(ErrorCode::OnnxOpset,
                   fmt::format("the model uses opset {} of the default ONNX domain; gamma "
                               "supports opsets {} to {}",
                               ctx_.opset, kMinOpset, kMaxOpset));
    return Status::ok();
  }

  Status readInitializers() {
    const onnx::GraphProto &g = model_.graph();
    if (g.sparse_initializer_size() > 0)
      return error(ErrorCode::OnnxUnsupportedType, "sparse initializers are not supported",
                   g.sparse_initializer(0).values().name(), "initializer");
    for (const onnx::TensorProto &t : g.initializer()) {
      if (!defined_.insert(t.name()).second)
        return error(ErrorCode::OnnxRedefinition,
                     fmt::format("initializer '{}' is defined twice", t.name()), t.name(),
                     "initializer");
      if (!ctx_.consumed.count(t.name()))
        continue; // Unused weights need not be decodable.
      auto c = decodeTensor(t, ctx_.model, external_);
      if (!c)
        return withLocation(c.takeError(), Location{ctx_.file, t.name(), "initializer"});
      TensorEntry e;
      e.constant = std::move(*c);
      e.weightName = t.name();
      ctx_.tensors[t.name()] = std::move(e);
    }
    return Status::ok();
  }

  Status readInputs() {
    const onnx::GraphProto &g = model_.graph();
    std::set<std::string> inputNames;
    for (const onnx::ValueInfoProto &in : g.input()) {
      auto where = [&](ErrorCode code, std::string msg) {
        return error(code, std::move(msg), in.name(), "graph input");
      };
      if (!inputNames.insert(in.name()).second)
        return where(ErrorCode::OnnxRedefinition, "the graph lists this input twice");
      if (defined_.count(in.name()))
        continue; // An initializer: a default value, not a model input.
      defined_.insert(in.name());
      if (!in.type().has_tensor_type())
        return where(ErrorCode::OnnxGraphShape, "graph inputs must be tensors");
      const onnx::TypeProto_Tensor &tt = in.type().tensor_type();
      if (tt.elem_type() != onnx::TensorProto::FLOAT)
        return where(ErrorCode::OnnxUnsupportedType,
                     fmt::format("graph input has element type {}; gamma's inputs must be "
                                 "float32",
                                 onnxTypeName(tt.elem_type())));
      if (!tt.has_shape())
        return where(ErrorCode::OnnxDynamicShape, "graph input has no shape (not even a rank)");
      ir::Shape shape;
      for (const onnx::TensorShapeProto_Dimension &d : tt.shape().dim()) {
        if (d.has_dim_value() && d.dim_value() > kMaxDimension) {
          return where(ErrorCode::OnnxGraphShape,
                       fmt::format("graph input has a dimension of {}; gamma's limit is 2^31 - 1",
                                   d.dim_value()));
        } else if (d.has_dim_value() && d.dim_value() > 0) {
          shape.push_back(d.dim_value());
        } else if (d.has_dim_value() && d.dim_value() == 0) {
          return where(ErrorCode::OnnxGraphShape, "graph input has a dimension of size 0");
        } else if (d.has_dim_value()) {
          return where(ErrorCode::OnnxMalformed, "graph input has a negative dimension");
        } else {
          shape.push_back(ctx_.opts.dynamicDimSize); // Symbolic or unknown.
        }
      }
      ir::TensorType type{shape};
      int64_t numel = 1;
      for (int64_t d : shape) {
        if (d > kMaxValueElements / numel)
          return where(ErrorCode::OnnxGraphShape,
                       fmt::format("graph input {} has more than 2^28 elements", type.str()));
        numel *= d;
      }
      TensorEntry e;
      e.value = ctx_.graph.addInput(in.name(), type);
      ctx_.tensors[in.name()] = std::move(e);
    }
    if (ctx_.graph.inputs.empty())
      return error(ErrorCode::OnnxGraphShape, "the model has no inputs besides initializers");
    return Status::ok();
  }

  Status lowerNode(const onnx::NodeProto &node, int index) {
    NodeLowering n(ctx_, node, index);
    if (!isDefaultDomain(node.domain()))
      return n.error(ErrorCode::OnnxUnsupportedOp,
                     fmt::format("operator '{}' of domain '{}' is not supported; gamma reads "
                                 "operators of the default ONNX domain only",
                                 node.op_type(), node.domain()));
    LowerFn fn = findLowering(node.op_type());
    if (!fn)
      return n.error(ErrorCode::OnnxUnsupportedOp,
                     fmt::format("operator {} is not supported (supported: {})", node.op_type(),
                                 fmt::join(supportedOnnxOps(), ", ")));
    Status s = fn(n);
    // A malformed attribute explains whatever else went wrong; report it first.
    if (n.attrError())
      return *n.attrError();
    return s;
  }

  Status bindOutputs() {
    const onnx::GraphProto &g = model_.graph();
    if (g.output_size() == 0)
      return error(ErrorCode::OnnxGraphShape, "the model has no outputs");
    std::set<std::string> outputNames;
    for (const onnx::ValueInfoProto &out : g.output()) {
      auto where = [&](ErrorCode code, std::string msg) {
        return error(code, std::move(msg), out.name(), "graph output");
      };
      if (!outputNames.insert(out.name()).second)
        return where(ErrorCode::OnnxRedefinition, "the graph lists this output twice");
      auto it = ctx_.tensors.find(out.name());
      if (it == ctx_.tensors.end())
        return where(ErrorCode::OnnxMissingInput,
                     "graph output is not produced by any node, initializer or input");
      std::optional<ir::ValueId> v = ctx_.materialize(it->second);
      if (!v)
        return where(ErrorCode::OnnxGraphShape,
                     "graph output is integer shape data; gamma's outputs must be float32");
      if (Status s = checkDeclaredShape(out, ctx_.graph.type(*v).shape); !s)
        return s;
      if (ctx_.graph.values[*v].name.empty())
        ctx_.graph.values[*v].name = out.name();
      ctx_.graph.outputs.push_back(*v);
    }
    return Status::ok();
  }

  /// The output shape the model declares must agree with the computed one on
  /// every static dimension.
  Status checkDeclaredShape(const onnx::ValueInfoProto &out, const ir::Shape &shape) {
    if (!out.type().has_tensor_type() || !out.type().tensor_type().has_shape())
      return Status::ok();
    const onnx::TensorShapeProto &declared = out.type().tensor_type().shape();
    bool ok = declared.dim_size() == static_cast<int>(shape.size());
    for (int i = 0; ok && i < declared.dim_size(); ++i) {
      const auto &d = declared.dim(i);
      ok = !d.has_dim_value() || d.dim_value() <= 0 || d.dim_value() == shape[i];
    }
    if (ok)
      return Status::ok();
    std::vector<std::string> dims;
    for (const auto &d : declared.dim())
      dims.push_back(d.has_dim_value() ? std::to_string(d.dim_value()) : "?");
    return error(ErrorCode::OnnxShapeMismatch,
                 fmt::format("the model declares shape [{}] but the graph computes {}",
                             fmt::join(dims, ","), ir::TensorType{shape}.str()),
                 out.name(), "graph output");
  }

  const onnx::ModelProto &model_;
  ImportContext &ctx_;
  ExternalDataFiles external_;
  /// Every tensor name defined so far: initializers, graph inputs, node outputs.
  std::set<std::string> defined_;
};

Location fileLocation(const std::string &file) {
  Location loc;
  loc.file = file;
  return loc;
}

std::string graphNameOf(const std::string &fileName) {
  std::string stem = std::filesystem::path(fileName).stem().string();
  return stem.empty() ? "main" : stem;
}

std::string modelDirOf(const std::string &fileName) {
  std::string dir = std::filesystem::path(fileName).parent_path().string();
  return dir.empty() ? "." : dir;
}

/// Parses and imports a serialized model held in [data, data + size).
Expected<ir::Graph> importModel(const void *data, size_t size, const std::string &fileName,
                                const OnnxImportOptions &opts) {
  if (opts.dynamicDimSize < 1)
    return Error(
        ErrorCode::InvalidArgument,
        fmt::format("the size for dynamic dimensions must be >= 1, not {}", opts.dynamicDimSize),
        fileLocation(fileName));
  try {
    if (size > static_cast<size_t>(INT_MAX))
      return Error(ErrorCode::OnnxMalformed,
                   "the model is larger than 2 GB; store its weights as external data",
                   fileLocation(fileName));
    auto model = std::make_shared<onnx::ModelProto>();
    if (!model->ParseFromArray(data, static_cast<int>(size)))
      return Error(ErrorCode::OnnxMalformed,
                   "the file is not a valid ONNX model (protobuf parsing failed; is it "
                   "truncated?)",
                   fileLocation(fileName));
    if (!model->has_graph())
      return Error(ErrorCode::OnnxMalformed, "the model has no graph", fileLocation(fileName));

    ir::Graph graph;
    graph.name = graphNameOf(fileName);
    ImportContext ctx(graph, fileName, modelDirOf(fileName), opts);
    ModelImporter importer(std::move(model), ctx);
    if (Status s = importer.run(); !s)
      return s.takeError();
    // The model's identity: its bytes and every external-data file it maps.
    support::Hasher h;
    h.field("gamma onnx model");
    h.field(static_cast<uint64_t>(size));
    h.bytes(data, size);
    importer.external().digest(h);
    graph.sourceDigest = h.hex();
    return graph;
  } catch (const std::exception &e) {
    // Protobuf and gamma report errors by value; only allocation failures on
    // absurd sizes can get here.
    return Error(ErrorCode::OnnxMalformed, fmt::format("import failed: {}", e.what()),
                 fileLocation(fileName));
  }
}

} // namespace

LowerFn findLowering(const std::string &opType) {
  const auto &table = loweringTable();
  auto it = table.find(opType);
  return it == table.end() ? nullptr : it->second;
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> names;
  for (const auto &[name, fn] : loweringTable())
    names.push_back(name);
  return names;
}

Expected<ir::Graph> importOnnxBytes(std::string_view bytes, const std::string &fileName,
                                    const OnnxImportOptions &opts) {
  return importModel(bytes.data(), bytes.size(), fileName, opts);
}

Expected<ir::Graph> importOnnxFile(const std::string &path, const OnnxImportOptions &opts) {
  // Parse straight from a read-only mapping: the weights are copied once, into
  // the ModelProto, which the graph's weights then reference. Protobuf cannot
  // parse messages of 2 GiB or more, so larger files are refused unread.
  auto file = mapInputFile(path, static_cast<uint64_t>(INT_MAX), ErrorCode::OnnxMalformed,
                           "ONNX model");
  if (!file)
    return file.takeError();
  if ((*file)->size() == 0)
    return Error(ErrorCode::OnnxMalformed, "the file is empty", fileLocation(path));
  return importModel((*file)->data(), (*file)->size(), path, opts);
}

} // namespace gma::frontend

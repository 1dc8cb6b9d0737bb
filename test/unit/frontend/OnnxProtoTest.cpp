//===- test/unit/frontend/OnnxProtoTest.cpp - Models built in memory ------===//
//
// Builds ModelProtos with the generated ONNX classes to reach the importer's
// corner cases: unnamed nodes, missing inputs, attributes that moved between
// opsets, integer shape folding, tensor encodings and external data.
//
//===----------------------------------------------------------------------===//
#include "FrontendTestUtils.h"

#include "ir/Interpreter.h"
#include "ir/Verifier.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sys/stat.h>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <optional>

namespace gma::frontend {
namespace {

using Strings = std::vector<std::string>;

/// A small fluent builder over onnx::ModelProto.
class ModelBuilder {
public:
  explicit ModelBuilder(int64_t opset = 13) {
    model_.set_ir_version(7);
    auto *o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g_ = model_.mutable_graph();
    g_->set_name("test");
  }

  /// A graph input; a negative dim becomes the symbolic dimension "N".
  ModelBuilder &input(const std::string &name, std::vector<int64_t> dims,
                      int elemType = onnx::TensorProto::FLOAT) {
    addValueInfo(g_->add_input(), name, dims, elemType);
    return *this;
  }
  ModelBuilder &output(const std::string &name, std::optional<std::vector<int64_t>> dims = {}) {
    auto *v = g_->add_output();
    if (dims)
      addValueInfo(v, name, *dims, onnx::TensorProto::FLOAT);
    else
      v->set_name(name);
    return *this;
  }

  onnx::NodeProto &node(const std::string &op, Strings inputs, Strings outputs,
                        const std::string &name = "") {
    auto *n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto &i : inputs)
      n->add_input(i);
    for (auto &o : outputs)
      n->add_output(o);
    return *n;
  }

  onnx::TensorProto &floats(const std::string &name, std::vector<int64_t> dims,
                            std::vector<float> data, bool raw = true) {
    auto &t = tensor(name, dims, onnx::TensorProto::FLOAT);
    if (raw)
      t.set_raw_data(std::string(reinterpret_cast<const char *>(data.data()), data.size() * 4));
    else
      for (float f : data)
        t.add_float_data(f);
    return t;
  }

  onnx::TensorProto &ints(const std::string &name, std::vector<int64_t> dims,
                          std::vector<int64_t> data) {
    auto &t = tensor(name, dims, onnx::TensorProto::INT64);
    for (int64_t v : data)
      t.add_int64_data(v);
    return t;
  }

  onnx::TensorProto &tensor(const std::string &name, std::vector<int64_t> dims, int type) {
    auto *t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims)
      t->add_dims(d);
    return *t;
  }

  onnx::ModelProto &proto() { return model_; }
  Expected<ir::Graph> import(const OnnxImportOptions &opts = {}) {
    return importOnnxBytes(model_.SerializeAsString(), "mem.onnx", opts);
  }

private:
  static void addValueInfo(onnx::ValueInfoProto *v, const std::string &name,
                           const std::vector<int64_t> &dims, int elemType) {
    v->set_name(name);
    auto *tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elemType);
    auto *shape = tt->mutable_shape();
    for (int64_t d : dims) {
      auto *dim = shape->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
  }

  onnx::ModelProto model_;
  onnx::GraphProto *g_;
};

void setInt(onnx::NodeProto &n, const std::string &name, int64_t v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void setInts(onnx::NodeProto &n, const std::string &name, std::vector<int64_t> v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v)
    a->add_ints(x);
}

void setString(onnx::NodeProto &n, const std::string &name, const std::string &v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

void setFloat(onnx::NodeProto &n, const std::string &name, float v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

/// Expects a successful import and a graph that passes the IR verifier.
ir::Graph ok(Expected<ir::Graph> g) {
  EXPECT_TRUE(static_cast<bool>(g)) << (g ? "" : g.error().str());
  if (!g)
    return ir::Graph{};
  Status v = ir::verifyGraph(*g);
  EXPECT_TRUE(static_cast<bool>(v)) << (v ? "" : v.error().str());
  return std::move(*g);
}

Error fails(Expected<ir::Graph> g) {
  EXPECT_FALSE(static_cast<bool>(g)) << "import succeeded unexpectedly";
  return g ? Error(ErrorCode::InvalidArgument, "no error") : g.takeError();
}

//===----------------------------------------------------------------------===//
// Names and locations
//===----------------------------------------------------------------------===//

TEST(OnnxProto, UnnamedNodeAndMissingInput) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("z");
  b.node("Relu", {"x"}, {"y"});
  b.node("Add", {"y", "missing"}, {"z"});
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxMissingInput);
  EXPECT_EQ(e.location().file, "mem.onnx");
  EXPECT_EQ(e.location().node, "#1");
  EXPECT_EQ(e.location().opType, "Add (opset 13)");
  EXPECT_NE(e.message().find("'missing'"), std::string::npos) << e.message();
}

TEST(OnnxProto, UnnamedNodesGetOpTypeLocations) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("z");
  b.node("Relu", {"x"}, {"y"});
  b.node("Sigmoid", {"y"}, {"z"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(g.name, "mem");
  auto ops = computeOps(g);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0]->loc, "Relu_0");
  EXPECT_EQ(ops[1]->loc, "Sigmoid_1");
  EXPECT_EQ(g.values[g.outputs[0]].name, "z");
}

TEST(OnnxProto, MissingOptionalOutputOfGraph) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("nowhere");
  b.node("Relu", {"x"}, {"y"});
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxMissingInput);
  EXPECT_EQ(e.location().node, "nowhere");
}

TEST(OnnxProto, InitializerListedAsInputIsNotAnInput) {
  ModelBuilder b;
  b.input("x", {1, 2}).input("W", {2, 2}).output("y");
  b.floats("W", {2, 2}, {1, 2, 3, 4});
  b.node("MatMul", {"x", "W"}, {"y"});
  ir::Graph g = ok(b.import());
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.values[g.inputs[0]].name, "x");
}

TEST(OnnxProto, DynamicDims) {
  ModelBuilder b;
  b.input("x", {-1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  OnnxImportOptions opts;
  opts.dynamicDimSize = 3;
  ir::Graph g = ok(b.import(opts));
  EXPECT_EQ(inputShape(g), (ir::Shape{3, 4}));
}

TEST(OnnxProto, DeclaredOutputShapeMustAgree) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("y", std::vector<int64_t>{1, 5});
  b.node("Relu", {"x"}, {"y"});
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxShapeMismatch) << e.str();
}

//===----------------------------------------------------------------------===//
// Rejections
//===----------------------------------------------------------------------===//

TEST(OnnxProto, GemmTransAUnsupported) {
  ModelBuilder b;
  b.input("x", {4, 1}).output("y");
  b.floats("W", {4, 2}, std::vector<float>(8, 1));
  setInt(b.node("Gemm", {"x", "W"}, {"y"}, "g"), "transA", 1);
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedAttr);
  EXPECT_EQ(e.location().node, "g");
}

TEST(OnnxProto, GemmNonConstantWeight) {
  ModelBuilder b;
  b.input("x", {1, 4}).input("w", {4, 4}).output("y");
  b.node("Gemm", {"x", "w"}, {"y"}, "g");
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxNonConstant);
  EXPECT_NE(e.message().find("'w'"), std::string::npos) << e.message();
}

TEST(OnnxProto, IntegerGraphInput) {
  ModelBuilder b;
  b.input("ids", {1, 4}, onnx::TensorProto::INT64).output("ids");
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedType);
  EXPECT_EQ(e.location().node, "ids");
}

TEST(OnnxProto, Float16Initializer) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("y");
  b.tensor("h", {2}, onnx::TensorProto::FLOAT16).set_raw_data(std::string(4, '\0'));
  b.node("Add", {"x", "h"}, {"y"});
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedType);
  EXPECT_EQ(e.location().node, "h");
  EXPECT_NE(e.message().find("float16"), std::string::npos) << e.message();
}

TEST(OnnxProto, RawDataSizeMismatch) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("y");
  b.tensor("c", {2}, onnx::TensorProto::FLOAT).set_raw_data(std::string(7, '\0'));
  b.node("Add", {"x", "c"}, {"y"});
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxMalformed);
}

TEST(OnnxProto, DropoutMaskUsed) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("y").output("mask");
  b.node("Dropout", {"x"}, {"y", "mask"}, "drop");
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedAttr);
  EXPECT_EQ(e.location().node, "drop");
}

TEST(OnnxProto, NonDefaultDomain) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("y");
  b.node("FusedGemm", {"x"}, {"y"}, "f").set_domain("com.microsoft");
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedOp);
}

TEST(OnnxProto, OpsetTooNew) {
  ModelBuilder b(22);
  b.input("x", {1, 2}).output("x");
  EXPECT_EQ(fails(b.import()).code(), ErrorCode::OnnxOpset);
}

TEST(OnnxProto, AttributeOfWrongKind) {
  ModelBuilder b;
  b.input("x", {1, 2, 2}).output("y");
  setFloat(b.node("Flatten", {"x"}, {"y"}, "flat"), "axis", 1.0f);
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxMalformed);
  EXPECT_EQ(e.location().node, "flat");
}

//===----------------------------------------------------------------------===//
// Tensor encodings
//===----------------------------------------------------------------------===//

TEST(OnnxProto, TypedFieldsAndDoubles) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("z");
  b.floats("a", {2}, {1.5f, -2.0f}, /*raw=*/false);
  auto &d = b.tensor("d", {2}, onnx::TensorProto::DOUBLE);
  d.add_double_data(0.25);
  d.add_double_data(4.0);
  b.node("Add", {"x", "a"}, {"y"});
  b.node("Mul", {"y", "d"}, {"z"});
  ir::Graph g = ok(b.import());
  auto ops = computeOps(g);
  const ir::Weight *a = g.constant(ops[0]->operands[1]);
  const ir::Weight *dw = g.constant(ops[1]->operands[1]);
  ASSERT_TRUE(a && dw);
  EXPECT_EQ(a->at(1), -2.0f);
  EXPECT_EQ(dw->at(0), 0.25f);
  EXPECT_EQ(dw->at(1), 4.0f);
}

TEST(OnnxProto, FloatConstantsAreNotFolded) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("z");
  b.floats("a", {2}, {1, 2});
  b.floats("c", {2}, {3, 4});
  b.node("Add", {"a", "c"}, {"s"}, "const_add");
  b.node("Add", {"x", "s"}, {"z"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(opSequence(g), (Strings{"add", "add"}));
  auto ops = computeOps(g);
  EXPECT_TRUE(g.isConstant(ops[0]->operands[0]));
  EXPECT_TRUE(g.isConstant(ops[0]->operands[1]));
}

TEST(OnnxProto, SharedInitializerIsOneWeight) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("z");
  b.floats("W", {2, 2}, {1, 0, 0, 1});
  b.node("MatMul", {"x", "W"}, {"y"});
  b.node("MatMul", {"y", "W"}, {"z"});
  ir::Graph g = ok(b.import());
  auto ops = computeOps(g);
  EXPECT_EQ(ops[0]->operands[1], ops[1]->operands[1]);
  EXPECT_EQ(g.weights.size(), 1);
}

//===----------------------------------------------------------------------===//
// Opset-dependent attributes and shape folding
//===----------------------------------------------------------------------===//

TEST(OnnxProto, ReshapeZeroAndMinusOne) {
  ModelBuilder b;
  b.input("x", {2, 3, 4}).output("y");
  b.ints("s", {2}, {0, -1});
  b.node("Reshape", {"x", "s"}, {"y"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(outputShape(g), (ir::Shape{2, 12}));
}

TEST(OnnxProto, ReshapeAllowZeroMeansZero) {
  ModelBuilder b(14);
  b.input("x", {2, 3, 4}).output("y");
  b.ints("s", {2}, {0, -1});
  setInt(b.node("Reshape", {"x", "s"}, {"y"}, "r"), "allowzero", 1);
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxShapeMismatch) << e.str();
}

TEST(OnnxProto, ReshapeNeedsConstantShape) {
  ModelBuilder b;
  b.input("x", {2, 3}).input("s", {2}).output("y");
  b.node("Reshape", {"x", "s"}, {"y"}, "r");
  EXPECT_EQ(fails(b.import()).code(), ErrorCode::OnnxNonConstant);
}

TEST(OnnxProto, SqueezeAxesAttributeBefore13) {
  ModelBuilder b(11);
  b.input("x", {1, 3, 1}).output("y");
  setInts(b.node("Squeeze", {"x"}, {"y"}), "axes", {2});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(outputShape(g), (ir::Shape{1, 3}));
}

TEST(OnnxProto, SqueezeAxesInputFrom13) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 1}).output("y");
  b.ints("axes", {1}, {-1});
  b.node("Squeeze", {"x", "axes"}, {"y"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(outputShape(g), (ir::Shape{1, 3}));
}

TEST(OnnxProto, SqueezeOfNonUnitAxis) {
  ModelBuilder b(13);
  b.input("x", {1, 3}).output("y");
  b.ints("axes", {1}, {1});
  b.node("Squeeze", {"x", "axes"}, {"y"}, "sq");
  EXPECT_EQ(fails(b.import()).code(), ErrorCode::OnnxShapeMismatch);
}

TEST(OnnxProto, ShapeStartEndFrom15) {
  // x.view(-1, x.shape[1]) written with Shape(start = 1, end = 2).
  ModelBuilder b(15);
  b.input("x", {2, 3, 4}).output("y");
  auto &shape = b.node("Shape", {"x"}, {"s"});
  setInt(shape, "start", 1);
  setInt(shape, "end", -1);
  b.ints("m1", {1}, {-1});
  setInt(b.node("Concat", {"m1", "s"}, {"t"}), "axis", 0);
  b.node("Reshape", {"x", "t"}, {"y"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(outputShape(g), (ir::Shape{8, 3}));
}

TEST(OnnxProto, SliceEqualWhereCastFold) {
  // target = Where(Shape(x)[1:] == [3, 0], [-1, -1], Shape(x)[1:]) = [-1, 4]
  ModelBuilder b(13);
  b.input("x", {2, 3, 4}).output("y");
  b.node("Shape", {"x"}, {"s"});
  b.ints("starts", {1}, {1});
  b.ints("ends", {1}, {std::numeric_limits<int64_t>::max()});
  b.node("Slice", {"s", "starts", "ends"}, {"tail"});
  b.ints("probe", {2}, {3, 0});
  b.node("Equal", {"tail", "probe"}, {"eq"});
  b.ints("neg", {2}, {-1, -1});
  b.node("Where", {"eq", "neg", "tail"}, {"w"});
  setInt(b.node("Cast", {"w"}, {"target"}), "to", onnx::TensorProto::INT64);
  b.node("Reshape", {"x", "target"}, {"y"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(outputShape(g), (ir::Shape{6, 4}));
  EXPECT_EQ(opSequence(g), (Strings{"reshape"}));
}

TEST(OnnxProto, ConstantNodeForms) {
  ModelBuilder b(13);
  b.input("x", {2, 6}).output("y");
  auto &c = b.node("Constant", {}, {"dims"});
  setInts(c, "value_ints", {3, 4});
  b.node("Reshape", {"x", "dims"}, {"y"});
  ir::Graph g = ok(b.import());
  EXPECT_EQ(outputShape(g), (ir::Shape{3, 4}));
}

TEST(OnnxProto, GatherIndexOutOfRange) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y");
  b.node("Shape", {"x"}, {"s"});
  b.ints("i", {}, {5});
  b.node("Gather", {"s", "i"}, {"y"}, "gather");
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxShapeMismatch);
  EXPECT_EQ(e.location().node, "gather");
}

TEST(OnnxProto, UnsqueezeAttributeBefore13AndInputFrom13) {
  for (int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    ModelBuilder b(opset);
    b.input("x", {3}).output("y");
    auto &n = b.node("Unsqueeze", opset < 13 ? Strings{"x"} : Strings{"x", "axes"}, {"y"});
    if (opset < 13)
      setInts(n, "axes", {0, -1});
    else
      b.ints("axes", {2}, {0, -1});
    ir::Graph g = ok(b.import());
    EXPECT_EQ(outputShape(g), (ir::Shape{1, 3, 1}));
  }
}

TEST(OnnxProto, GemmBiasBroadcastAndAlpha) {
  ModelBuilder b(13);
  b.input("x", {1, 2}).output("y");
  b.floats("W", {2, 3}, {1, 2, 3, 4, 5, 6});
  b.floats("C", {1}, {0.5f});
  auto &gemm = b.node("Gemm", {"x", "W", "C"}, {"y"}, "g");
  setFloat(gemm, "alpha", 2.0f);
  ir::Graph g = ok(b.import());
  auto ops = computeOps(g);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]->intAttr("ulp_error"), 1);
  auto out = ir::evaluate(g, {{1.0f, -1.0f}}, 1);
  ASSERT_TRUE(static_cast<bool>(out)) << out.error().str();
  // 2 * ([1, -1] @ W) + 0.5 = 2 * [-3, -3, -3] + 0.5
  EXPECT_EQ((*out)[0], (std::vector<float>{-5.5f, -5.5f, -5.5f}));
}

//===----------------------------------------------------------------------===//
// External data
//===----------------------------------------------------------------------===//

class ExternalData : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gamma_frontend_ext_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Writes `pad` zero bytes then the floats to weights.bin.
  void writeWeights(size_t pad, const std::vector<float> &w) {
    std::ofstream f(dir_ / "weights.bin", std::ios::binary);
    std::string zeros(pad, '\0');
    f.write(zeros.data(), zeros.size());
    f.write(reinterpret_cast<const char *>(w.data()), w.size() * sizeof(float));
  }

  /// A MatMul model whose weight lives in `location` at [offset, offset+length).
  Expected<ir::Graph> importWith(const std::string &location, int64_t offset, int64_t length) {
    ModelBuilder b;
    b.input("x", {1, 2}).output("y");
    auto &t = b.tensor("W", {2, 3}, onnx::TensorProto::FLOAT);
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto addKv = [&](const char *k, const std::string &v) {
      auto *kv = t.add_external_data();
      kv->set_key(k);
      kv->set_value(v);
    };
    addKv("location", location);
    addKv("offset", std::to_string(offset));
    addKv("length", std::to_string(length));
    b.node("MatMul", {"x", "W"}, {"y"});
    std::string path = (dir_ / "ext.onnx").string();
    std::ofstream(path, std::ios::binary) << b.proto().SerializeAsString();
    return importOnnxFile(path);
  }

  std::filesystem::path dir_;
  const std::vector<float> w_{1, 2, 3, 4, 5, 6};
};

TEST_F(ExternalData, MappedInPlace) {
  writeWeights(16, w_);
  ir::Graph g = ok(importWith("weights.bin", 16, 24));
  const ir::Weight *w = g.constant(computeOps(g)[0]->operands[1]);
  ASSERT_NE(w, nullptr);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(w->at(i), w_[i]);
  // The weight stays readable after the importer's own state is gone and the
  // file is deleted: the mapping is owned by the weight.
  std::filesystem::remove(dir_ / "weights.bin");
  EXPECT_EQ(w->at(5), 6.0f);
}

TEST_F(ExternalData, MisalignedOffset) {
  writeWeights(3, w_);
  ir::Graph g = ok(importWith("weights.bin", 3, 24));
  const ir::Weight *w = g.constant(computeOps(g)[0]->operands[1]);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->at(0), 1.0f);
  EXPECT_EQ(w->at(5), 6.0f);
}

TEST_F(ExternalData, OutOfRange) {
  writeWeights(0, w_);
  Error e = fails(importWith("weights.bin", 8, 24));
  EXPECT_EQ(e.code(), ErrorCode::OnnxMalformed);
  EXPECT_EQ(e.location().node, "W");
}

TEST_F(ExternalData, MissingFile) {
  EXPECT_EQ(fails(importWith("nope.bin", 0, 24)).code(), ErrorCode::FileNotFound);
}

TEST_F(ExternalData, PathOutsideModelFolder) {
  EXPECT_EQ(fails(importWith("../weights.bin", 0, 24)).code(), ErrorCode::OnnxMalformed);
  EXPECT_EQ(fails(importWith("/etc/passwd", 0, 24)).code(), ErrorCode::OnnxMalformed);
}

// --- Hostile input (issue 10): each of these was accepted or hung before. ---

TEST_F(ExternalData, SymlinkEscapingTheFolderIsRefused) {
  std::filesystem::path outside = dir_.string() + "_outside.bin";
  {
    std::ofstream f(outside, std::ios::binary);
    f.write(reinterpret_cast<const char *>(w_.data()), w_.size() * sizeof(float));
  }
  std::filesystem::create_symlink(outside, dir_ / "weights.bin");
  Error e = fails(importWith("weights.bin", 0, 24));
  std::filesystem::remove(outside);
  EXPECT_EQ(e.code(), ErrorCode::OnnxMalformed) << e.str();
  EXPECT_NE(e.message().find("outside the model's folder"), std::string::npos) << e.message();
}

TEST_F(ExternalData, SymlinkInsideTheFolderIsFine) {
  writeWeights(0, w_);
  std::filesystem::create_symlink("weights.bin", dir_ / "link.bin");
  ok(importWith("link.bin", 0, 24));
}

TEST_F(ExternalData, FifoDoesNotBlock) {
  // A FIFO with no writer: open() without O_NONBLOCK never returned.
  ASSERT_EQ(::mkfifo((dir_ / "weights.bin").c_str(), 0600), 0);
  EXPECT_EQ(fails(importWith("weights.bin", 0, 24)).code(), ErrorCode::FileNotFound);
}

TEST_F(ExternalData, NulInLocationIsRefused) {
  writeWeights(0, w_);
  // "weights.bin\0junk" used to open weights.bin.
  EXPECT_EQ(fails(importWith(std::string("weights.bin\0junk", 16), 0, 24)).code(),
            ErrorCode::OnnxMalformed);
}

TEST(OnnxHostile, NamesAreDefinedOnce) {
  auto model = [](auto edit) {
    ModelBuilder b;
    b.input("x", {1, 2});
    b.floats("W", {2, 2}, {1, 2, 3, 4});
    b.node("MatMul", {"x", "W"}, {"y"});
    edit(b);
    return b.import();
  };
  const std::pair<const char *, std::function<void(ModelBuilder &)>> cases[] = {
      {"input twice", [](ModelBuilder &b) { b.input("x", {1, 2}).output("y"); }},
      {"output twice", [](ModelBuilder &b) { b.output("y").output("y"); }},
      {"initializer twice",
       [](ModelBuilder &b) { b.floats("W", {2, 2}, {0, 0, 0, 0}); b.output("y"); }},
      {"node output redefines the input",
       [](ModelBuilder &b) { b.node("Relu", {"y"}, {"x"}); b.output("y"); }},
      {"node output redefines an initializer",
       [](ModelBuilder &b) { b.node("Relu", {"y"}, {"W"}); b.output("y"); }},
      {"two producers", [](ModelBuilder &b) { b.node("Relu", {"x"}, {"y"}); b.output("y"); }},
  };
  for (const auto &[what, edit] : cases) {
    Error e = fails(model(edit));
    EXPECT_EQ(e.code(), ErrorCode::OnnxRedefinition) << what << ": " << e.str();
  }
}

TEST(OnnxHostile, InputDimensionsAreBounded) {
  for (int64_t d : {int64_t(1) << 31, (int64_t(1) << 31) - 1, int64_t(1) << 40,
                    std::numeric_limits<int64_t>::max()}) {
    ModelBuilder b;
    b.input("x", {1, d}).output("y");
    b.node("Relu", {"x"}, {"y"});
    EXPECT_EQ(fails(b.import()).code(), ErrorCode::OnnxGraphShape) << d;
  }
}

TEST(OnnxHostile, ReshapeSizeMustNotWrapAround) {
  // 2 * 3 * 3074457345618258603 = 2^64 + 2: in int64 this wrapped to the
  // input's 2 elements and the reshape was accepted.
  ModelBuilder b;
  b.input("x", {1, 2}).output("y");
  b.ints("s", {3}, {2, 3, 3074457345618258603});
  b.node("Reshape", {"x", "s"}, {"y"});
  EXPECT_EQ(fails(b.import()).code(), ErrorCode::OnnxShapeMismatch);
}

TEST(OnnxHostile, NonFiniteWeightsAreRefused) {
  for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity()}) {
    ModelBuilder b;
    b.input("x", {1, 2}).output("y");
    b.floats("W", {2, 2}, {1, v, 3, 4});
    b.node("MatMul", {"x", "W"}, {"y"});
    Error e = fails(b.import());
    EXPECT_EQ(e.code(), ErrorCode::OnnxNonFinite) << e.str();
    EXPECT_EQ(e.location().node, "W");
  }
  ModelBuilder b;
  b.input("x", {1, 2}).output("y");
  setFloat(b.node("Constant", {}, {"k"}), "value_float", std::numeric_limits<float>::quiet_NaN());
  b.node("Add", {"x", "k"}, {"y"});
  EXPECT_EQ(fails(b.import()).code(), ErrorCode::OnnxNonFinite);
}

TEST(OnnxHostile, NamesAreEscapedInMessages) {
  ModelBuilder b;
  b.input("x", {1, 2}).output("y");
  b.node("Softmax", {"x"}, {"y"}, "\x1b[31mred\nE9999: fake");
  std::string s = fails(b.import()).str();
  EXPECT_EQ(s.find('\x1b'), std::string::npos) << s;
  EXPECT_EQ(s.find('\n'), std::string::npos) << s;
  EXPECT_NE(s.find("\\x1b[31mred\\nE9999"), std::string::npos) << s;
}

//===----------------------------------------------------------------------===//
// Pad and average pooling (lowered to the conv family)
//===----------------------------------------------------------------------===//

std::vector<float> evalOne(const ir::Graph &g, std::vector<float> x) {
  auto y = ir::evaluate(g, {std::move(x)}, 1);
  EXPECT_TRUE(static_cast<bool>(y)) << (y ? "" : y.error().str());
  return y ? (*y)[0] : std::vector<float>{};
}

/// The box [x - 0.25, x + 0.5] (one sample) and ir::ibp's bounds of g's
/// output over it.
std::pair<ir::IntervalBuffer, ir::IntervalBuffer> ibpAround(const ir::Graph &g,
                                                            const std::vector<float> &x) {
  ir::IntervalBuffer box;
  for (float v : x) {
    box.lo.push_back(v - 0.25f);
    box.hi.push_back(v + 0.5f);
  }
  auto bounds = ir::ibp(g, {box}, 1);
  EXPECT_TRUE(static_cast<bool>(bounds)) << (bounds ? "" : bounds.error().str());
  return {box, bounds ? (*bounds)[0] : ir::IntervalBuffer{}};
}

// A pad of 2^63 - 1 used to overflow int64 in the conv shape rule (UBSan in
// the sanitizer tier's hostile corpus); the sums are checked now.
TEST(OnnxProto, PadOfInt64MaxIsAnError) {
  ModelBuilder b;
  b.input("x", {1, 1, 4, 4}).output("y");
  b.ints("p", {8}, {0, 0, std::numeric_limits<int64_t>::max(), 0, 0, 0, 0, 0});
  b.node("Pad", {"x", "p"}, {"y"}, "pad");
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxShapeMismatch);
  EXPECT_NE(e.message().find("overflow"), std::string::npos) << e.message();
}

TEST(OnnxProto, PadSpatialZerosIsExact) {
  ModelBuilder b;
  b.input("x", {1, 2, 2, 2}).output("y");
  // One row on top, two columns on the right (begin H, W; end H, W).
  b.ints("p", {8}, {0, 0, 1, 0, 0, 0, 0, 2});
  b.node("Pad", {"x", "p"}, {"y"}, "pad");
  ir::Graph g = ok(b.import());
  ASSERT_EQ(outputShape(g), (ir::Shape{1, 2, 3, 4}));
  std::vector<float> y = evalOne(g, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0,
                                   0, 0, 0, 0, 5, 6, 0, 0, 7, 8, 0, 0}));
}

TEST(OnnxProto, PadAxesInputFrom18) {
  ModelBuilder b(18);
  b.input("x", {1, 1, 2}).output("y");
  b.ints("p", {2}, {1, 1});
  b.ints("a", {1}, {-1});
  b.node("Pad", {"x", "p", "", "a"}, {"y"}, "pad");
  ir::Graph g = ok(b.import());
  EXPECT_EQ(evalOne(g, {3, 4}), (std::vector<float>{0, 3, 4, 0}));
}

TEST(OnnxProto, PadRefusesWhatItCannotRepresent) {
  auto tryPad = [](std::vector<int64_t> pads, const char *mode, float value) {
    ModelBuilder b;
    b.input("x", {1, 2, 2, 2}).output("y");
    b.ints("p", {8}, std::move(pads));
    b.floats("v", {}, {value});
    auto &n = b.node("Pad", {"x", "p", "v"}, {"y"}, "pad");
    auto *a = n.add_attribute();
    a->set_name("mode");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(mode);
    return fails(b.import());
  };
  for (Error e : {tryPad({0, 0, 1, 1, 0, 0, 1, 1}, "reflect", 0.0f),
                  tryPad({0, 0, 1, 1, 0, 0, 1, 1}, "constant", 1.5f),
                  tryPad({0, 0, -1, 0, 0, 0, 0, 0}, "constant", 0.0f),
                  tryPad({0, 1, 0, 0, 0, 0, 0, 0}, "constant", 0.0f)}) {
    EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedAttr) << e.str();
    EXPECT_EQ(e.location().node, "pad");
  }
}

TEST(OnnxProto, AveragePoolCountsPadsWhenAsked) {
  for (int include : {0, 1}) {
    SCOPED_TRACE(include);
    ModelBuilder b;
    b.input("x", {1, 1, 2, 2}).output("y");
    auto &n = b.node("AveragePool", {"x"}, {"y"}, "pool");
    setInts(n, "kernel_shape", {2, 2});
    setInts(n, "pads", {1, 1, 0, 0});
    setInt(n, "count_include_pad", include);
    ir::Graph g = ok(b.import());
    ASSERT_EQ(outputShape(g), (ir::Shape{1, 1, 2, 2}));
    // Windows over the padded [[0,0,0],[0,1,2],[0,3,4]]: sums 1, 3, 4, 10 of
    // 1, 2, 2, 4 inputs, or of 4 taps each with the padding counted.
    std::vector<float> want = include ? std::vector<float>{0.25f, 0.75f, 1.0f, 2.5f}
                                      : std::vector<float>{1.0f, 1.5f, 2.0f, 2.5f};
    EXPECT_EQ(evalOne(g, {1, 2, 3, 4}), want);
  }
}

TEST(OnnxProto, AveragePoolCeilModeRefused) {
  ModelBuilder b;
  b.input("x", {1, 1, 3, 3}).output("y");
  auto &n = b.node("AveragePool", {"x"}, {"y"}, "pool");
  setInts(n, "kernel_shape", {2, 2});
  setInts(n, "strides", {2, 2});
  setInt(n, "ceil_mode", 1);
  Error e = fails(b.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedAttr);
  EXPECT_NE(e.message().find("ceil_mode"), std::string::npos) << e.message();
}

TEST(OnnxProto, GlobalAveragePoolOf1d) {
  ModelBuilder b;
  b.input("x", {1, 2, 3}).output("y");
  b.node("GlobalAveragePool", {"x"}, {"y"}, "gap");
  ir::Graph g = ok(b.import());
  ASSERT_EQ(outputShape(g), (ir::Shape{1, 2, 1}));
  EXPECT_EQ(evalOne(g, {1, 2, 6, -3, 0, 0}), (std::vector<float>{3.0f, -1.0f}));
}

TEST(OnnxProto, BatchNormalizationPerChannel) {
  ModelBuilder b;
  b.input("x", {1, 2, 1, 2}).output("y");
  b.floats("s", {2}, {2.0f, 1.0f});
  b.floats("b", {2}, {0.5f, -1.0f});
  b.floats("m", {2}, {1.0f, 0.0f});
  b.floats("v", {2}, {4.0f, 0.25f});
  setFloat(b.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}, "bn"), "epsilon", 0.0f);
  ir::Graph g = ok(b.import());
  // (x - m) / sqrt(v) · s + b: channel 0 (x - 1) / 2 · 2 + 0.5, channel 1 x / 0.5 - 1.
  EXPECT_EQ(evalOne(g, {3, 5, 1, -2}), (std::vector<float>{2.5f, 4.5f, 1.0f, -5.0f}));
}

TEST(OnnxProto, BatchNormalizationRefusals) {
  auto bn = [](std::vector<float> var, bool training, bool meanOut) {
    ModelBuilder b;
    b.input("x", {1, 2}).output("y");
    if (meanOut)
      b.output("rm");
    for (const char *c : {"s", "b", "m"})
      b.floats(c, {2}, {1.0f, 1.0f});
    b.floats("v", {2}, std::move(var));
    auto &n = b.node("BatchNormalization", {"x", "s", "b", "m", "v"},
                     meanOut ? Strings{"y", "rm"} : Strings{"y"}, "bn");
    setFloat(n, "epsilon", 0.0f);
    if (training)
      setInt(n, "training_mode", 1);
    return fails(b.import()).code();
  };
  EXPECT_EQ(bn({1.0f, -1.0f}, false, false), ErrorCode::OnnxMalformed); // sqrt of < 0
  EXPECT_EQ(bn({1.0f, 0.0f}, false, false), ErrorCode::OnnxMalformed);  // division by 0
  EXPECT_EQ(bn({1.0f, 1.0f}, true, false), ErrorCode::OnnxUnsupportedAttr);
  EXPECT_EQ(bn({1.0f, 1.0f}, false, true), ErrorCode::OnnxUnsupportedAttr);
}

// Tanh is the IR's tanh (a row of the scalar table): f32 values are tanhf's
// (within an ulp of tanh), interval bounds contain the exact tanh of the
// box's ends and are within a few ulps of them.
TEST(OnnxProto, TanhValuesAndBounds) {
  ModelBuilder b;
  b.input("x", {1, 9}).output("y");
  b.node("Tanh", {"x"}, {"y"}, "t");
  ir::Graph g = ok(b.import());
  ASSERT_EQ(g.ops.back().kind, ir::OpKind::Tanh);
  std::vector<float> x = {-30.0f, -3.0f, -1.0f, -0.1f, 0.0f, 1e-3f, 0.5f, 2.0f, 30.0f};
  std::vector<float> y = evalOne(g, x);
  ASSERT_EQ(y.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(y[i], std::tanh(x[i])) << x[i];
  ir::IntervalBuffer box;
  box.lo = {-30.0f, -3.0f, -1.0f, -0.1f, 0.0f, 1e-3f, 0.5f, 2.0f, 29.0f};
  box.hi = {-29.0f, -2.5f, 1.0f, -0.05f, 0.0f, 2e-3f, 0.5f, 3.0f, 30.0f};
  auto bounds = ir::ibp(g, {box}, 1);
  ASSERT_TRUE(static_cast<bool>(bounds)) << bounds.error().str();
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE((*bounds)[0].lo[i], std::tanh(static_cast<double>(box.lo[i]))) << i;
    EXPECT_GE((*bounds)[0].hi[i], std::tanh(static_cast<double>(box.hi[i]))) << i;
    EXPECT_LE((*bounds)[0].hi[i] - (*bounds)[0].lo[i],
              std::tanh(static_cast<double>(box.hi[i])) - std::tanh(static_cast<double>(box.lo[i])) +
                  1e-6)
        << i;
  }
}

// Clip through ReLUs, for both opset forms, one-sided and absent bounds: the
// float64 evaluation of the imported graph is exact (clip's real value), the
// f32 one within an ulp or two (b - (b - y) rounds).
TEST(OnnxProto, ClipValues) {
  const std::vector<float> x = {-7.0f, -0.5f, 0.0f, 0.3f, 5.9f, 6.5f, 1e30f};
  auto clip = [&](int64_t opset, std::optional<float> lo, std::optional<float> hi) {
    ModelBuilder b(opset);
    b.input("x", {1, 7}).output("y");
    Strings in = {"x"};
    if (opset >= 11) {
      in.push_back(lo ? "lo" : "");
      if (lo)
        b.floats("lo", {}, {*lo});
      if (hi) {
        in.push_back("hi");
        b.floats("hi", {}, {*hi});
      }
    }
    auto &n = b.node("Clip", in, {"y"}, "clip");
    if (opset < 11) {
      if (lo)
        setFloat(n, "min", *lo);
      if (hi)
        setFloat(n, "max", *hi);
    }
    ir::Graph g = ok(b.import());
    std::vector<float> y32 = evalOne(g, x);
    auto y64 = ir::evaluate64(g, {std::vector<double>(x.begin(), x.end())}, 1);
    EXPECT_TRUE(static_cast<bool>(y64));
    std::vector<double> want(x.begin(), x.end());
    for (double &w : want) {
      w = lo ? std::max(w, static_cast<double>(*lo)) : w;
      w = hi ? std::min(w, static_cast<double>(*hi)) : w;
    }
    if (y64)
      EXPECT_EQ((*y64)[0], want);
    EXPECT_EQ(y32.size(), want.size());
    for (size_t i = 0; i < y32.size() && i < want.size(); ++i)
      EXPECT_NEAR(y32[i], want[i], 1e-6 * std::max(1.0, std::fabs(want[i]))) << i;
  };
  for (int64_t opset : {10, 13}) {
    SCOPED_TRACE(opset);
    clip(opset, 0.0f, 6.0f);
    clip(opset, -1.0f, 0.25f);
    clip(opset, 0.3f, std::nullopt);
    clip(opset, std::nullopt, 0.0f);
    clip(opset, std::nullopt, std::nullopt);
  }
  // ±FLT_MAX (opset 6's defaults, and what exporters write for "none").
  ModelBuilder b(13);
  b.input("x", {1, 7}).output("y");
  b.floats("lo", {}, {-std::numeric_limits<float>::max()});
  b.floats("hi", {}, {std::numeric_limits<float>::max()});
  b.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
  EXPECT_EQ(evalOne(ok(b.import()), x), x);
}

TEST(OnnxProto, ClipRefusals) {
  auto refused = [](std::vector<float> lo, bool computedMin) {
    ModelBuilder b(13);
    b.input("x", {1, 2}).output("y");
    if (computedMin) {
      b.input("m", {1});
      b.node("Clip", {"x", "m"}, {"y"}, "clip");
    } else {
      b.floats("lo", {static_cast<int64_t>(lo.size())}, lo);
      b.floats("hi", {}, {1.0f});
      b.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
    }
    return fails(b.import()).code();
  };
  EXPECT_EQ(refused({2.0f}, false), ErrorCode::OnnxUnsupportedAttr); // min > max
  EXPECT_EQ(refused({std::nanf("")}, false), ErrorCode::OnnxNonFinite); // NaN
  EXPECT_EQ(refused({0.0f, 0.0f}, false), ErrorCode::OnnxUnsupportedType); // not one value
  EXPECT_EQ(refused({}, true), ErrorCode::OnnxNonConstant);
}

// ReduceSum / ReduceMean over adjacent axes as a grouped conv of ones (and a
// division by the count): values against a float64 loop over x viewed as
// [A, K, B], both opset forms of the axes, keepdims, negative axes, the
// empty-axes rules; interval bounds contain every corner's reduction.
TEST(OnnxProto, ReduceSumMeanValuesAndBounds) {
  const ir::Shape xs = {1, 3, 4, 2};
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>((static_cast<int>(i * 7) % 11) - 5) * 0.375f;
  struct Case {
    const char *op;
    int64_t opset;
    std::vector<int64_t> axes; // empty: none given
    int64_t keepdims;
    ir::Shape out;
    int64_t lo, hi; // the reduced block, normalised
  };
  const std::vector<Case> cases = {
      {"ReduceSum", 13, {1}, 1, {1, 1, 4, 2}, 1, 1},
      {"ReduceSum", 11, {-2, -1}, 0, {1, 3}, 2, 3},
      {"ReduceMean", 13, {2, 3}, 1, {1, 3, 1, 1}, 2, 3},
      {"ReduceMean", 18, {1, 2}, 0, {1, 2}, 1, 2},
      {"ReduceMean", 18, {}, 1, {1, 1, 1, 1}, 0, 3},
      {"ReduceSum", 13, {0}, 0, {3, 4, 2}, 0, 0},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(std::string(c.op) + " opset " + std::to_string(c.opset) + " lo " + std::to_string(c.lo));
    ModelBuilder b(c.opset);
    b.input("x", xs).output("y");
    bool input = c.opset >= (std::string(c.op) == "ReduceSum" ? 13 : 18);
    Strings in = {"x"};
    if (input && !c.axes.empty()) {
      b.ints("axes", {static_cast<int64_t>(c.axes.size())}, c.axes);
      in.push_back("axes");
    }
    auto &node = b.node(c.op, in, {"y"}, "r");
    if (!input && !c.axes.empty())
      setInts(node, "axes", c.axes);
    setInt(node, "keepdims", c.keepdims);
    ir::Graph g = ok(b.import());
    ASSERT_EQ(outputShape(g), c.out);
    int64_t A = 1, K = 1, B = 1;
    for (int64_t d = 0; d < 4; ++d)
      (d < c.lo ? A : d <= c.hi ? K : B) *= xs[d];
    const bool mean = std::string(c.op) == "ReduceMean";
    auto reduce = [&](const std::vector<float> &v, int64_t a, int64_t j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += v[(a * K + k) * B + j];
      return mean ? s / static_cast<double>(K) : s;
    };
    std::vector<float> y = evalOne(g, x);
    ASSERT_EQ(static_cast<int64_t>(y.size()), A * B);
    for (int64_t a = 0; a < A; ++a)
      for (int64_t j = 0; j < B; ++j)
        EXPECT_NEAR(y[a * B + j], reduce(x, a, j), 1e-6) << a << " " << j;
    auto [box, y32] = ibpAround(g, x);
    ASSERT_EQ(y32.lo.size(), static_cast<size_t>(A * B));
    for (int64_t a = 0; a < A; ++a)
      for (int64_t j = 0; j < B; ++j) {
        EXPECT_LE(y32.lo[a * B + j], reduce(box.lo, a, j));
        EXPECT_GE(y32.hi[a * B + j], reduce(box.hi, a, j));
      }
  }
}

TEST(OnnxProto, ReduceRefusals) {
  auto refused = [](std::vector<int64_t> axes, int64_t noop = -1) {
    ModelBuilder b(13);
    b.input("x", {1, 3, 4, 2}).output("y");
    b.ints("axes", {static_cast<int64_t>(axes.size())}, axes);
    auto &node = b.node("ReduceSum", {"x", "axes"}, {"y"}, "r");
    if (noop >= 0)
      setInt(node, "noop_with_empty_axes", noop);
    auto g = b.import();
    return g ? std::optional<ErrorCode>() : std::optional<ErrorCode>(g.error().code());
  };
  EXPECT_EQ(refused({1, 3}), std::nullopt);                   // not adjacent: transposed
  EXPECT_EQ(refused({4}), ErrorCode::OnnxShapeMismatch);      // out of range
  EXPECT_EQ(refused({1, -3}), ErrorCode::OnnxShapeMismatch);  // the same axis twice
  EXPECT_EQ(refused({2, 1}), std::nullopt);                   // any order
  // noop_with_empty_axes: no axes means the identity.
  ModelBuilder b(13);
  b.input("x", {1, 3}).output("y");
  setInt(b.node("ReduceSum", {"x"}, {"y"}, "r"), "noop_with_empty_axes", 1);
  ir::Graph g = ok(b.import());
  EXPECT_EQ(evalOne(g, {1, 2, 3}), (std::vector<float>{1, 2, 3}));
}

// Slice and Concat of activations (and of a float weight) become the IR's
// slice and concat ops: values against index arithmetic, interval bounds
// copied element by element; ONNX's negative starts, clamped ends and
// negative steps resolve to the op's per-dimension starts/steps/sizes.
TEST(OnnxProto, SliceAndConcatOfActivations) {
  const ir::Shape xs = {1, 2, 5};
  std::vector<float> x(10);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i) - 3.5f;
  struct Case {
    std::vector<int64_t> starts, ends, axes, steps;
    ir::Shape out;
    std::vector<int64_t> src; // the x index of each result element
  };
  const std::vector<Case> cases = {
      {{1}, {4}, {2}, {1}, {1, 2, 3}, {1, 2, 3, 6, 7, 8}},
      {{-1}, {-100}, {-1}, {-2}, {1, 2, 3}, {4, 2, 0, 9, 7, 5}},
      {{1, 0}, {2, 1000}, {1, 2}, {1, 3}, {1, 1, 2}, {5, 8}},
  };
  for (const Case &c : cases) {
    ModelBuilder b(13);
    b.input("x", xs).output("y");
    b.ints("st", {static_cast<int64_t>(c.starts.size())}, c.starts);
    b.ints("en", {static_cast<int64_t>(c.ends.size())}, c.ends);
    b.ints("ax", {static_cast<int64_t>(c.axes.size())}, c.axes);
    b.ints("sp", {static_cast<int64_t>(c.steps.size())}, c.steps);
    b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"}, "s");
    ir::Graph g = ok(b.import());
    ASSERT_EQ(outputShape(g), c.out);
    std::vector<float> y = evalOne(g, x);
    ASSERT_EQ(y.size(), c.src.size());
    for (size_t i = 0; i < y.size(); ++i)
      EXPECT_EQ(y[i], x[c.src[i]]) << i;
  }
  // Concat of x, a slice of x and a weight along axis -1.
  ModelBuilder b(13);
  b.input("x", xs).output("y");
  b.ints("st", {1}, {3});
  b.ints("en", {1}, {5});
  b.ints("ax", {1}, {2});
  b.floats("C", {1, 2, 1}, {10, 20});
  b.node("Slice", {"x", "st", "en", "ax"}, {"s"}, "s");
  setInt(b.node("Concat", {"x", "s", "C"}, {"y"}, "c"), "axis", -1);
  ir::Graph g = ok(b.import());
  ASSERT_EQ(outputShape(g), (ir::Shape{1, 2, 8}));
  std::vector<float> want = {x[0], x[1], x[2], x[3], x[4], x[3], x[4], 10,
                             x[5], x[6], x[7], x[8], x[9], x[8], x[9], 20};
  EXPECT_EQ(evalOne(g, x), want);
  auto [box, yb] = ibpAround(g, x);
  ASSERT_EQ(yb.lo.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    bool weight = i == 7 || i == 15;
    EXPECT_EQ(yb.lo[i], weight ? want[i] : want[i] - 0.25f) << i;
    EXPECT_EQ(yb.hi[i], weight ? want[i] : want[i] + 0.5f) << i;
  }
  // Parts that differ outside the axis: a coded shape error at the node.
  ModelBuilder bad(13);
  bad.input("x", xs).input("z", {1, 3, 5}).output("y");
  setInt(bad.node("Concat", {"x", "z"}, {"y"}, "c"), "axis", 2);
  Error e = fails(bad.import());
  EXPECT_EQ(e.location().node, "c") << e.str();
  EXPECT_NE(e.message().find("differ outside axis"), std::string::npos) << e.message();
}

// Gather with constant indices (negative ones too), Expand and Split of an
// activation: the IR's gather and expand, and one slice per Split output.
TEST(OnnxProto, GatherExpandSplitOfActivations) {
  const ir::Shape xs = {1, 2, 3};
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  {
    ModelBuilder b(13);
    b.input("x", xs).output("y");
    b.ints("i", {2, 2}, {2, -3, 0, 2});
    setInt(b.node("Gather", {"x", "i"}, {"y"}, "g"), "axis", 2);
    ir::Graph g = ok(b.import());
    ASSERT_EQ(outputShape(g), (ir::Shape{1, 2, 2, 2}));
    EXPECT_EQ(evalOne(g, x), (std::vector<float>{3, 1, 1, 3, 6, 4, 4, 6}));
    auto [box, yb] = ibpAround(g, x);
    ASSERT_EQ(yb.lo.size(), 8u);
    EXPECT_EQ(yb.lo[0], box.lo[2]);
    EXPECT_EQ(yb.hi[5], box.hi[3]);
  }
  {
    ModelBuilder b(13);
    b.input("x", {1, 2, 1}).output("y");
    b.ints("s", {3}, {2, 1, 3});
    b.node("Expand", {"x", "s"}, {"y"}, "e");
    ir::Graph g = ok(b.import());
    ASSERT_EQ(outputShape(g), (ir::Shape{2, 2, 3}));
    EXPECT_EQ(evalOne(g, {7, 8}), (std::vector<float>{7, 7, 7, 8, 8, 8, 7, 7, 7, 8, 8, 8}));
  }
  for (int64_t opset : {11, 13}) {
    ModelBuilder b(opset);
    b.input("x", xs).output("a").output("c");
    Strings in = {"x"};
    if (opset >= 13) {
      b.ints("sp", {2}, {1, 2});
      in.push_back("sp");
    }
    auto &node = b.node("Split", in, {"a", "c"}, "s");
    setInt(node, "axis", -1);
    if (opset < 13)
      setInts(node, "split", {1, 2});
    ir::Graph g = ok(b.import());
    ASSERT_EQ(g.outputs.size(), 2u);
    auto y = ir::evaluate(g, {x}, 1);
    ASSERT_TRUE(static_cast<bool>(y)) << y.error().str();
    EXPECT_EQ((*y)[0], (std::vector<float>{1, 4}));
    EXPECT_EQ((*y)[1], (std::vector<float>{2, 3, 5, 6}));
  }
  ModelBuilder bad(13);
  bad.input("x", xs).output("a").output("c");
  bad.ints("sp", {2}, {1, 1});
  setInt(bad.node("Split", {"x", "sp"}, {"a", "c"}, "s"), "axis", 2);
  Error e = fails(bad.import());
  EXPECT_EQ(e.code(), ErrorCode::OnnxShapeMismatch) << e.str();
  EXPECT_EQ(e.location().node, "s");
}

// Reduce over axes that are not adjacent: a transpose moves them behind the
// others, then the grouped sum; values against a float64 loop.
TEST(OnnxProto, ReduceOverNonAdjacentAxes) {
  ModelBuilder b(13);
  b.input("x", {1, 3, 4, 2}).output("y");
  setInts(b.node("ReduceMean", {"x"}, {"y"}, "r"), "axes", {1, 3}); // an attribute at 13
  ir::Graph g = ok(b.import());
  ASSERT_EQ(outputShape(g), (ir::Shape{1, 1, 4, 1}));
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i % 7) - 2.5f;
  std::vector<float> y = evalOne(g, x);
  ASSERT_EQ(y.size(), 4u);
  for (int64_t j = 0; j < 4; ++j) {
    double s = 0;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t k = 0; k < 2; ++k)
        s += x[(c * 4 + j) * 2 + k];
    EXPECT_NEAR(y[j], s / 6, 1e-6) << j;
  }
}

// ConstantOfShape folds to a constant of its value (float 0 by default); a
// shape that is negative or too large is a coded error. Here it feeds an Add.
TEST(OnnxProto, ConstantOfShapeFolds) {
  auto run = [](std::optional<float> value, std::vector<int64_t> shape) {
    ModelBuilder b(13);
    b.input("x", {1, 3}).output("y");
    b.ints("s", {static_cast<int64_t>(shape.size())}, shape);
    auto &node = b.node("ConstantOfShape", {"s"}, {"c"}, "cos");
    if (value) {
      auto *a = node.add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      auto *t = a->mutable_t();
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_dims(1);
      t->add_float_data(*value);
    }
    b.node("Add", {"x", "c"}, {"y"}, "add");
    return b.import();
  };
  EXPECT_EQ(evalOne(ok(run(std::nullopt, {1, 3})), {1, 2, 3}), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(evalOne(ok(run(2.5f, {3})), {1, 2, 3}), (std::vector<float>{3.5f, 4.5f, 5.5f}));
  Error e = fails(run(1.0f, {1, -3}));
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedAttr) << e.str();
  EXPECT_EQ(e.location().node, "cos");
  EXPECT_EQ(fails(run(1.0f, {1 << 20, 1 << 20})).code(), ErrorCode::OnnxUnsupportedAttr);
}

// Resize (nearest) resolves ONNX's source coordinates per axis: half_pixel
// with round_prefer_floor from sizes, align_corners, and linear mode refused.
TEST(OnnxProto, ResizeNearestCoordinates) {
  auto resize = [](std::vector<int64_t> sizes, const char *ctm, const char *nearest,
                   const char *mode = "nearest") {
    ModelBuilder b(13);
    b.input("x", {1, 1, 1, 3}).output("y");
    b.ints("sz", {4}, sizes);
    auto &node = b.node("Resize", {"x", "", "", "sz"}, {"y"}, "rs");
    setString(node, "coordinate_transformation_mode", ctm);
    setString(node, "nearest_mode", nearest);
    setString(node, "mode", mode);
    return b.import();
  };
  const std::vector<float> x = {10, 20, 30};
  // half_pixel, 3 -> 5: c = (o + 0.5)·0.6 - 0.5 = -0.2, 0.4, 1, 1.6, 2.2,
  // rounded to 0 (clamped), 0, 1, 2, 2.
  EXPECT_EQ(evalOne(ok(resize({1, 1, 1, 5}, "half_pixel", "round_prefer_floor")), x),
            (std::vector<float>{10, 10, 20, 30, 30}));
  // align_corners, 3 -> 4: c = o·2/3 = 0, 0.67, 1.33, 2; floor.
  EXPECT_EQ(evalOne(ok(resize({1, 1, 1, 4}, "align_corners", "floor")), x),
            (std::vector<float>{10, 10, 20, 30}));
  // asymmetric, 3 -> 2 (downsampling): c = o·1.5 = 0, 1.5; round_prefer_ceil.
  EXPECT_EQ(evalOne(ok(resize({1, 1, 1, 2}, "asymmetric", "round_prefer_ceil")), x),
            (std::vector<float>{10, 30}));
  EXPECT_EQ(fails(resize({1, 1, 1, 5}, "half_pixel", "floor", "linear")).code(),
            ErrorCode::OnnxUnsupportedAttr);
  // Upsample (opset 9): scales as input 1, asymmetric coordinates, floor.
  ModelBuilder b(9);
  b.input("x", {1, 1, 1, 3}).output("y");
  b.floats("sc", {4}, {1, 1, 1, 2});
  b.node("Upsample", {"x", "sc"}, {"y"}, "up");
  EXPECT_EQ(evalOne(ok(b.import()), x), (std::vector<float>{10, 10, 20, 20, 30, 30}));
}

} // namespace
} // namespace gma::frontend

//===- test/unit/frontend/OnnxModelsTest.cpp - Importing the test models --===//
//
// Imports each model that test/models/gen_models.py writes, checks the graph's
// shapes, op sequence, attributes and locations, verifies it, and evaluates it
// with the IR interpreter against the float64 reference outputs in
// <model>.ref.json (computed by numpy, independently of gamma).
//
//===----------------------------------------------------------------------===//
#include "FrontendTestUtils.h"

#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gma::frontend {
namespace {

using Strings = std::vector<std::string>;

ir::Graph load(const std::string &name, const OnnxImportOptions &opts = {}) {
  auto g = importOnnxFile(modelPath(name), opts);
  EXPECT_TRUE(static_cast<bool>(g)) << (g ? "" : g.error().str());
  if (!g)
    return ir::Graph{};
  Status v = ir::verifyGraph(*g);
  EXPECT_TRUE(static_cast<bool>(v)) << (v ? "" : v.error().str()) << "\n" << ir::printGraph(*g);
  return std::move(*g);
}

/// Runs the interpreter on every reference input and compares with the
/// reference outputs. f32 evaluation of these small nets stays within 1e-4.
void checkAgainstReference(const std::string &name) {
  std::ifstream in(modelPath(name + ".ref.json"));
  ASSERT_TRUE(in.good()) << "missing " << name << ".ref.json";
  nlohmann::json ref = nlohmann::json::parse(in);
  ir::Graph g = load(name + ".onnx");
  ASSERT_EQ(g.inputs.size(), 1u);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(inputShape(g), ref["input_shape"].get<ir::Shape>());
  EXPECT_EQ(outputShape(g), ref["output_shape"].get<ir::Shape>());

  const auto &xs = ref["inputs"];
  const auto &ys = ref["outputs"];
  ASSERT_EQ(xs.size(), ys.size());
  for (size_t s = 0; s < xs.size(); ++s) {
    std::vector<float> x;
    for (double v : xs[s])
      x.push_back(static_cast<float>(v));
    auto out = ir::evaluate(g, {x}, 1);
    ASSERT_TRUE(static_cast<bool>(out)) << out.error().str();
    const std::vector<float> &y = (*out)[0];
    ASSERT_EQ(y.size(), ys[s].size());
    for (size_t i = 0; i < y.size(); ++i) {
      double want = ys[s][i];
      EXPECT_NEAR(y[i], want, 1e-4 * (1 + std::fabs(want)))
          << name << " sample " << s << " output " << i;
    }
  }
}

TEST(OnnxModels, MlpGemm) {
  ir::Graph g = load("mlp_gemm.onnx");
  EXPECT_EQ(g.name, "mlp_gemm");
  EXPECT_EQ(inputShape(g), (ir::Shape{1, 1, 4, 4}));
  EXPECT_EQ(outputShape(g), (ir::Shape{1, 3}));
  EXPECT_EQ(g.values[g.inputs[0]].name, "input");
  EXPECT_EQ(g.values[g.outputs[0]].name, "output");
  EXPECT_EQ(opSequence(g), (Strings{"reshape", "affine", "relu", "affine", "relu", "affine"}));
  auto ops = computeOps(g);
  EXPECT_EQ(ops[0]->loc, "flatten");
  EXPECT_EQ(ops[1]->loc, "fc1");
  EXPECT_EQ(ops[1]->intAttr("transposed"), 1);
  EXPECT_FALSE(ops[1]->hasAttr("ulp_error"));
  EXPECT_EQ(g.type(ops[0]->result).shape, (ir::Shape{1, 16}));
  EXPECT_EQ(g.type(ops[1]->result).shape, (ir::Shape{1, 8}));
  // The weight is the initializer, referenced in place and named after it.
  const ir::Weight *w = g.constant(ops[1]->operands[1]);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->name(), "fc1.weight");
  EXPECT_EQ(w->type().shape, (ir::Shape{8, 16}));
  checkAgainstReference("mlp_gemm");
}

TEST(OnnxModels, MlpMatMulNorm) {
  ir::Graph g = load("mlp_matmul_norm.onnx");
  EXPECT_EQ(opSequence(g),
            (Strings{"sub", "div", "reshape", "matmul", "add", "relu", "matmul", "add"}));
  auto ops = computeOps(g);
  EXPECT_EQ(ops[0]->loc, "normalize_sub");
  EXPECT_TRUE(g.isConstant(ops[0]->operands[1]));
  EXPECT_EQ(g.type(ops[2]->result).shape, (ir::Shape{1, 5}));
  checkAgainstReference("mlp_matmul_norm");
}

TEST(OnnxModels, ShapeChainFoldsAway) {
  ir::Graph g = load("shape_chain.onnx");
  // Shape/Gather/Unsqueeze/Concat leave no trace; Reshape becomes a view.
  EXPECT_EQ(opSequence(g),
            (Strings{"reshape", "affine", "relu", "identity", "identity", "affine"}));
  auto ops = computeOps(g);
  EXPECT_EQ(ops[0]->loc, "view");
  EXPECT_EQ(ops[3]->loc, "dropout");
  EXPECT_EQ(ops[4]->loc, "identity");
  EXPECT_EQ(inputShape(g), (ir::Shape{1, 3, 4}));
  EXPECT_EQ(g.type(ops[0]->result).shape, (ir::Shape{1, 12}));
  checkAgainstReference("shape_chain");
}

TEST(OnnxModels, ShapeChainDynamicBatch) {
  OnnxImportOptions opts;
  opts.dynamicDimSize = 4;
  ir::Graph g = load("shape_chain.onnx", opts);
  EXPECT_EQ(inputShape(g), (ir::Shape{4, 3, 4}));
  EXPECT_EQ(outputShape(g), (ir::Shape{4, 3}));
  EXPECT_EQ(g.type(computeOps(g)[0]->result).shape, (ir::Shape{4, 12}));
}

TEST(OnnxModels, SigmoidMlpScalesGemm) {
  ir::Graph g = load("sigmoid_mlp.onnx");
  EXPECT_EQ(opSequence(g),
            (Strings{"affine", "sigmoid", "affine", "sigmoid", "identity", "affine"}));
  auto ops = computeOps(g);
  // alpha = 0.5 and beta = 2 are multiplied into W and b: one rounding each.
  EXPECT_EQ(ops[0]->intAttr("transposed"), 0);
  EXPECT_EQ(ops[0]->intAttr("ulp_error"), 1);
  EXPECT_EQ(g.type(ops[0]->operands[2]).shape, (ir::Shape{10}));
  EXPECT_FALSE(ops[2]->hasAttr("ulp_error"));
  checkAgainstReference("sigmoid_mlp");
}

TEST(OnnxModels, MiscOps) {
  ir::Graph g = load("misc_ops.onnx");
  EXPECT_EQ(opSequence(g), (Strings{"mul", "reshape", "reshape", "transpose", "matmul", "neg",
                                    "relu", "identity", "sub", "affine"}));
  auto ops = computeOps(g);
  // The transpose of a constant stays an op for fold-constants.
  EXPECT_TRUE(g.isConstant(ops[3]->operands[0]));
  EXPECT_EQ(ops[3]->attrs.at("perm").ints, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(g.type(ops[1]->result).shape, (ir::Shape{1, 1, 4}));
  // Gemm without C gets a zero bias.
  const ir::Weight *b = g.constant(ops[9]->operands[2]);
  ASSERT_NE(b, nullptr);
  for (int64_t i = 0; i < b->numel(); ++i)
    EXPECT_EQ(b->at(i), 0.0f);
  checkAgainstReference("misc_ops");
}

// ONNX Conv with explicit pads and strides, and with group, dilation, no
// bias and auto_pad SAME_UPPER; the reference is an independent float64
// numpy loop nest (gen_models.py, conv_ref).
TEST(OnnxModels, ConvNet) {
  ir::Graph g = load("conv_net.onnx");
  EXPECT_EQ(opSequence(g), (Strings{"conv", "relu", "conv", "relu", "reshape", "affine"}));
  auto ops = computeOps(g);
  EXPECT_EQ(ops[0]->attrs.at("strides").ints, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ops[0]->attrs.at("pads").ints, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(ops[2]->attrs.at("pads").ints, (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(ops[2]->intAttr("group"), 2);
  EXPECT_EQ(g.type(ops[0]->result).shape, (ir::Shape{1, 4, 4, 4}));
  const ir::Weight *b = g.constant(ops[2]->operands[2]); // no bias: zeros
  ASSERT_NE(b, nullptr);
  for (int64_t i = 0; i < b->numel(); ++i)
    EXPECT_EQ(b->at(i), 0.0f);
  checkAgainstReference("conv_net");
}

TEST(OnnxModels, TorchExports) {
  for (const char *name : {"torch_view_mlp", "torch_flatten_dropout"}) {
    if (!std::filesystem::exists(modelPath(std::string(name) + ".onnx")))
      GTEST_SKIP() << name << ".onnx was not generated (PyTorch missing)";
    SCOPED_TRACE(name);
    ir::Graph g = load(std::string(name) + ".onnx");
    EXPECT_EQ(opSequence(g), (Strings{"reshape", "affine", "relu", "affine"}));
    checkAgainstReference(name);
  }
}

// torch.nn.functional.leaky_relu (slopes 0.1 and the default 0.01) between
// convolutions, exported by torch.onnx; the reference is gen_models.py's
// float64 numpy forward pass.
TEST(OnnxModels, TorchConvLeaky) {
  ir::Graph g = load("torch_conv_leaky.onnx");
  EXPECT_EQ(opSequence(g),
            (Strings{"conv", "leaky_relu", "conv", "leaky_relu", "reshape", "affine"}));
  auto ops = computeOps(g);
  EXPECT_EQ(g.constant(ops[1]->operands[1])->at(0), 0.1f);
  EXPECT_EQ(g.constant(ops[3]->operands[1])->at(0), 0.01f);
  checkAgainstReference("torch_conv_leaky");
}

// nn.Upsample(scale_factor=2, mode="nearest") from torch.onnx: ONNX Resize
// with asymmetric coordinates and floor rounding, one gather per spatial
// axis; the reference is gen_models.py's float64 forward pass (np.repeat).
TEST(OnnxModels, TorchConvUpsample) {
  ir::Graph g = load("torch_conv_upsample.onnx");
  Strings ops = opSequence(g);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "gather"), 2) << "one gather per spatial axis";
  checkAgainstReference("torch_conv_upsample");
}

// torch.nn.functional.softplus (ONNX Softplus) and Tensor.mean(2) (ReduceMean
// with an axes attribute, opset 13) from torch.onnx; the reference is
// gen_models.py's float64 numpy forward pass (np.logaddexp).
TEST(OnnxModels, TorchSoftplusMean) {
  ir::Graph g = load("torch_softplus_mean.onnx");
  Strings ops = opSequence(g);
  EXPECT_NE(std::find(ops.begin(), ops.end(), "softplus"), ops.end());
  EXPECT_NE(std::find(ops.begin(), ops.end(), "conv"), ops.end()) << "the mean's grouped sum";
  checkAgainstReference("torch_softplus_mean");
}

// nn.MaxPool2d(2) and MaxPool2d(3, stride 2, padding 1) from torch.onnx:
// the input flattened, one gather per tap (a tap in the padding reads its
// window's first element inside the input) and a chain of `max`;
// the reference is gen_models.py's float64 loop nest (max_pool_ref).
TEST(OnnxModels, TorchConvMaxPool) {
  ir::Graph g = load("torch_conv_maxpool.onnx");
  Strings ops = opSequence(g);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "gather"), 4 + 9) << "one gather per tap";
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "max"), 3 + 8) << "taps - 1 maxima per pool";
  checkAgainstReference("torch_conv_maxpool");
}

// nn.AvgPool2d (padding excluded from the count, and a plain 2x2) and
// adaptive_avg_pool2d(·, 1) (GlobalAveragePool) from torch.onnx: each a
// depthwise conv with weights 1 and a division by its tap counts; the
// reference is gen_models.py's float64 loop nest (avg_pool_ref).
TEST(OnnxModels, TorchConvPool) {
  if (!std::filesystem::exists(modelPath("torch_conv_pool.onnx")))
    GTEST_SKIP() << "torch_conv_pool.onnx was not generated (PyTorch missing)";
  ir::Graph g = load("torch_conv_pool.onnx");
  // torch.onnx puts a Pad with zero pads before the plain pool: an identity.
  ASSERT_EQ(opSequence(g), (Strings{"conv", "relu", "conv", "div", "conv", "relu", "identity",
                                    "conv", "div", "conv", "div", "reshape", "affine"}));
  auto ops = computeOps(g);
  // 3x3, stride 2, pads 1, count_include_pad 0 on 12x12: a per-position
  // count map [1, 1, 6, 6] — 4 taps in the corner, 6 on the edges, 9 inside.
  EXPECT_EQ(ops[2]->intAttr("group"), 4);
  const ir::Weight *count = g.constant(ops[3]->operands[1]);
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(g.type(ops[3]->operands[1]).shape, (ir::Shape{1, 1, 6, 6}));
  EXPECT_EQ(count->at(0), 4.0f);
  EXPECT_EQ(count->at(1), 6.0f);
  EXPECT_EQ(count->at(7), 9.0f);
  // The plain 2x2 pool and the global one divide by one scalar.
  EXPECT_EQ(g.constant(ops[8]->operands[1])->at(0), 4.0f);
  EXPECT_EQ(g.constant(ops[10]->operands[1])->at(0), 9.0f); // 3x3 left of 12x12
  checkAgainstReference("torch_conv_pool");
}

// nn.BatchNorm2d / nn.BatchNorm1d after a ReLU (so torch.onnx cannot fold
// them into a conv), with random running statistics: sub, div, mul, add per
// channel; the reference is gen_models.py's float64 batch_norm.
TEST(OnnxModels, TorchConvBatchNorm) {
  if (!std::filesystem::exists(modelPath("torch_conv_bn.onnx")))
    GTEST_SKIP() << "torch_conv_bn.onnx was not generated (PyTorch missing)";
  ir::Graph g = load("torch_conv_bn.onnx");
  ASSERT_EQ(opSequence(g), (Strings{"conv", "relu", "sub", "div", "mul", "add", "conv", "relu",
                                    "reshape", "sub", "div", "mul", "add", "affine"}));
  auto ops = computeOps(g);
  EXPECT_EQ(g.type(ops[3]->operands[1]).shape, (ir::Shape{1, 4, 1, 1}));
  EXPECT_EQ(g.type(ops[10]->operands[1]).shape, (ir::Shape{1, 36}));
  checkAgainstReference("torch_conv_bn");
}

// torch.tanh, F.relu6 (exported as Relu + Clip(0, 6)) and F.hardtanh(-0.5,
// 0.8) (Clip with constant min/max inputs): tanh as the IR's tanh, each Clip
// through ReLUs; the reference is numpy's tanh and clip in float64.
TEST(OnnxModels, TorchTanhClip) {
  if (!std::filesystem::exists(modelPath("torch_tanh_clip.onnx")))
    GTEST_SKIP() << "torch_tanh_clip.onnx was not generated (PyTorch missing)";
  ir::Graph g = load("torch_tanh_clip.onnx");
  ASSERT_EQ(opSequence(g),
            (Strings{"reshape", "affine", "tanh", "affine", "relu",
                     "sub", "relu", "add", "sub", "relu", "sub", "affine", "sub", "relu", "add",
                     "sub", "relu", "sub", "affine"}));
  checkAgainstReference("torch_tanh_clip");
}

TEST(OnnxModels, PrintsImportedIr) {
  ir::Graph g = load("mlp_gemm.onnx");
  std::string text = ir::printGraph(g);
  EXPECT_NE(text.find("graph @mlp_gemm(%input: f32[1,1,4,4])"), std::string::npos) << text;
  EXPECT_NE(text.find("loc(\"fc1\")"), std::string::npos) << text;
}

} // namespace
} // namespace gma::frontend

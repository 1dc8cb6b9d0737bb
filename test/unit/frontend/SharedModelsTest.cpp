//===- test/unit/frontend/SharedModelsTest.cpp - VNN-COMP networks --------===//
//
// Imports the fully-connected VNN-COMP networks in ../shared (never copied
// into the repository): all 45 ACAS Xu networks, mnist_fc, eran, dist_shift
// and safenlp, and checks their input/output shapes and that each graph
// passes the IR verifier. Skipped when the shared folder is absent.
//
//===----------------------------------------------------------------------===//
#include "FrontendTestUtils.h"

#include "ir/Verifier.h"

#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>

namespace gma::frontend {
namespace {

namespace fs = std::filesystem;

const fs::path kVnncomp = fs::path(GAMMA_SHARED_DIR) / "benchmarks" / "vnncomp";

/// All .onnx files under `category`/onnx, sorted.
std::vector<std::string> models(const std::string &category) {
  std::vector<std::string> files;
  fs::path dir = kVnncomp / category / "onnx";
  if (!fs::is_directory(dir))
    return files;
  for (const auto &e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".onnx")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// Imports every model of a category and checks its shapes.
void importAll(const std::string &category, size_t expectedCount, const ir::Shape &in,
               const ir::Shape &out) {
  if (!fs::is_directory(kVnncomp))
    GTEST_SKIP() << "no VNN-COMP networks at " << kVnncomp;
  std::vector<std::string> files = models(category);
  EXPECT_EQ(files.size(), expectedCount);
  for (const std::string &f : files) {
    SCOPED_TRACE(f);
    auto g = importOnnxFile(f);
    ASSERT_TRUE(static_cast<bool>(g)) << g.error().str();
    Status v = ir::verifyGraph(*g);
    EXPECT_TRUE(static_cast<bool>(v)) << (v ? "" : v.error().str());
    ASSERT_EQ(g->inputs.size(), 1u);
    ASSERT_EQ(g->outputs.size(), 1u);
    EXPECT_EQ(inputShape(*g), in);
    EXPECT_EQ(outputShape(*g), out);
  }
}

TEST(SharedModels, AcasXu) {
  // Opset 8: Sub, Flatten, then six MatMul+Add+Relu layers and a linear one.
  importAll("acasxu", 45, {1, 1, 1, 5}, {1, 5});
}

TEST(SharedModels, MnistFc) {
  // Unnamed nodes: Flatten of [1,784,1], Gemm(transB=1) + Relu layers.
  importAll("mnist_fc", 3, {1, 784, 1}, {1, 10});
}

TEST(SharedModels, Eran) {
  // Constant nodes for Sub/Div normalisation, Gemm with Relu or Sigmoid.
  importAll("eran", 2, {1, 1, 28, 28}, {1, 10});
}

TEST(SharedModels, DistShift) {
  // Two Reshapes with int64 initializer shapes between Gemm layers.
  importAll("dist_shift", 1, {1, 792}, {1, 10});
}

TEST(SharedModels, SafeNlp) {
  // A symbolic batch dimension ("unk__6"), MatMul + Add, opset 13 with an
  // extra ai.onnx.ml opset import.
  importAll("safenlp", 2, {1, 30}, {1, 2});
}

TEST(SharedModels, AcasXuOpSequence) {
  if (!fs::is_directory(kVnncomp))
    GTEST_SKIP() << "no VNN-COMP networks at " << kVnncomp;
  auto g = importOnnxFile((kVnncomp / "acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx").string());
  ASSERT_TRUE(static_cast<bool>(g)) << g.error().str();
  std::vector<std::string> want = {"sub", "reshape"};
  for (int layer = 0; layer < 6; ++layer)
    for (const char *op : {"matmul", "add", "relu"})
      want.push_back(op);
  want.push_back("matmul");
  want.push_back("add");
  EXPECT_EQ(opSequence(*g), want);
  EXPECT_EQ(computeOps(*g)[0]->loc, "input_Sub");
}

} // namespace
} // namespace gma::frontend

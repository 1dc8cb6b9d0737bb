//===- test/unit/frontend/OnnxErrorsTest.cpp - Models gamma must reject ---===//
//
// Each bad_*.onnx model in test/models is rejected with its stable error code
// and a location naming the file, the node and the op type with its opset.
//
//===----------------------------------------------------------------------===//
#include "FrontendTestUtils.h"

#include <fstream>
#include <gtest/gtest.h>
#include <random>

namespace gma::frontend {
namespace {

Error importError(const std::string &name) {
  auto g = importOnnxFile(modelPath(name));
  EXPECT_FALSE(static_cast<bool>(g)) << name << " imported without error";
  if (g)
    return Error(ErrorCode::InvalidArgument, "no error");
  return g.takeError();
}

TEST(OnnxErrors, UnsupportedOp) {
  Error e = importError("bad_unsupported_op.onnx");
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedOp);
  EXPECT_EQ(e.location().file, modelPath("bad_unsupported_op.onnx"));
  EXPECT_EQ(e.location().node, "softmax_0");
  EXPECT_EQ(e.location().opType, "Softmax (opset 13)");
  EXPECT_NE(e.message().find("Softmax"), std::string::npos) << e.message();
  // The rendered message carries code, node and op type.
  std::string s = e.str();
  EXPECT_NE(s.find("E2002"), std::string::npos) << s;
  EXPECT_NE(s.find("softmax_0"), std::string::npos) << s;
}

TEST(OnnxErrors, LeakyReluSlopeAboveOne) {
  Error e = importError("bad_leaky_alpha.onnx");
  EXPECT_EQ(e.code(), ErrorCode::OnnxUnsupportedAttr) << e.str();
  EXPECT_EQ(e.location().node, "leaky_0");
  EXPECT_NE(e.message().find("alpha = 2"), std::string::npos) << e.message();
}

TEST(OnnxErrors, Truncated) {
  Error e = importError("bad_truncated.onnx");
  EXPECT_EQ(e.code(), ErrorCode::OnnxMalformed) << e.str();
  EXPECT_EQ(e.location().file, modelPath("bad_truncated.onnx"));
}

TEST(OnnxErrors, ShapeMismatch) {
  Error e = importError("bad_shape_mismatch.onnx");
  EXPECT_EQ(e.code(), ErrorCode::OnnxShapeMismatch) << e.str();
  EXPECT_EQ(e.location().node, "fc_bad");
  EXPECT_EQ(e.location().opType, "Gemm (opset 13)");
  EXPECT_NE(e.message().find("[8,10]"), std::string::npos) << e.message();
}

TEST(OnnxErrors, Opset) {
  Error e = importError("bad_opset.onnx");
  EXPECT_EQ(e.code(), ErrorCode::OnnxOpset) << e.str();
  EXPECT_NE(e.message().find("opset 6"), std::string::npos) << e.message();
}

TEST(OnnxErrors, FileNotFound) {
  Error e = importError("no_such_model.onnx");
  EXPECT_EQ(e.code(), ErrorCode::FileNotFound) << e.str();
  EXPECT_EQ(e.location().file, modelPath("no_such_model.onnx"));
}

TEST(OnnxErrors, DirectoryIsNotAModel) {
  Error e = importError("");
  EXPECT_EQ(e.code(), ErrorCode::FileNotFound) << e.str();
}

TEST(OnnxErrors, GarbageBytes) {
  auto g = importOnnxBytes(std::string("\xff\xff\xff\xff garbage", 12), "garbage.onnx");
  ASSERT_FALSE(static_cast<bool>(g));
  EXPECT_EQ(g.error().code(), ErrorCode::OnnxMalformed) << g.error().str();
  EXPECT_EQ(g.error().location().file, "garbage.onnx");
}

/// Corrupting bytes of valid models must give errors or graphs, never a
/// crash: every size and index is checked before it is used.
TEST(OnnxErrors, CorruptedBytesNeverCrash) {
  for (const char *name : {"mlp_gemm.onnx", "shape_chain.onnx", "misc_ops.onnx"}) {
    std::ifstream in(modelPath(name), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty());
    std::mt19937 rng(42);
    int failures = 0;
    for (int trial = 0; trial < 2000; ++trial) {
      std::string mutated = bytes;
      for (int k = 0; k < 1 + trial % 4; ++k)
        mutated[rng() % mutated.size()] = static_cast<char>(rng());
      auto g = importOnnxBytes(mutated, name);
      failures += g ? 0 : 1;
    }
    EXPECT_GT(failures, 0) << name;
  }
}

} // namespace
} // namespace gma::frontend

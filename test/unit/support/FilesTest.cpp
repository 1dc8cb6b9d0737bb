//===- test/unit/support/FilesTest.cpp - Safe output targets ---------------===//
#include "support/Files.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gma::support {
namespace {

namespace fs = std::filesystem;

class OutputTarget : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gamma_files_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OutputTarget, NewAndRegularFilesMayBeWritten) {
  EXPECT_EQ(checkOutputTarget((dir_ / "new.txt").string(), {}), "");
  std::ofstream((dir_ / "old.txt").string()) << "x";
  EXPECT_EQ(checkOutputTarget((dir_ / "old.txt").string(), {}), "");
}

TEST_F(OutputTarget, LinksDevicesFifosDirectoriesAndInputsAreRefused) {
  std::ofstream((dir_ / "model.onnx").string()) << "x";
  fs::create_symlink(dir_ / "model.onnx", dir_ / "link");
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  EXPECT_NE(checkOutputTarget((dir_ / "link").string(), {}), "");
  EXPECT_NE(checkOutputTarget((dir_ / "fifo").string(), {}), "");
  EXPECT_NE(checkOutputTarget("/dev/null", {}), "");
  EXPECT_NE(checkOutputTarget(dir_.string(), {}), "");
  EXPECT_NE(checkOutputTarget((dir_ / "model.onnx").string(), {(dir_ / "model.onnx").string()}),
            "");
  EXPECT_NE(checkOutputTarget((dir_ / "missing" / "out.txt").string(), {}), "");
  EXPECT_NE(checkOutputTarget("", {}), "");
}

} // namespace
} // namespace gma::support

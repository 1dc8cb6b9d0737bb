//===- test/unit/runtime/VerifierLibraryTest.cpp - Loading verifiers ------===//
//
// VerifierLibrary::open refuses what it cannot use, with the error codes of
// support/ErrorCodes.def: a missing file or a library without gamma_verifier_info
// is VerifierLoad, a descriptor of another ABI version is VerifierMismatch.
// Loading real libraries is tested in test/unit/codegen/AotTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "runtime/VerifierLibrary.h"

#include <gtest/gtest.h>

namespace gma::runtime {
namespace {

TEST(VerifierLibrary, MissingFileIsVerifierLoad) {
  auto lib = VerifierLibrary::open("/nonexistent/model_verifier.so");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), ErrorCode::VerifierLoad);
  EXPECT_EQ(lib.error().location().file, "/nonexistent/model_verifier.so");
}

TEST(VerifierLibrary, ForeignLibraryIsVerifierLoad) {
  auto lib = VerifierLibrary::open(NOT_VERIFIER_LIB);
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), ErrorCode::VerifierLoad);
  EXPECT_NE(lib.error().message().find("gamma_verifier_info"), std::string::npos)
      << lib.error().str();
}

TEST(VerifierLibrary, WrongAbiVersionIsVerifierMismatch) {
  auto lib = VerifierLibrary::open(WRONG_ABI_LIB);
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), ErrorCode::VerifierMismatch);
  std::string future = "ABI version " + std::to_string(GAMMA_KERNEL_ABI_VERSION + 1);
  EXPECT_NE(lib.error().message().find(future), std::string::npos) << lib.error().str();
}

TEST(VerifierLibrary, NotALibraryIsVerifierLoad) {
  auto lib = VerifierLibrary::open(GAMMA_SOURCE_DIR "/abi/KernelAbi.h");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), ErrorCode::VerifierLoad);
}

} // namespace
} // namespace gma::runtime

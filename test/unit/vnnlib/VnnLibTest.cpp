//===- test/unit/vnnlib/VnnLibTest.cpp - VNN-LIB parsing ------------------===//
#include "frontend/vnnlib/VnnLib.h"

#include <filesystem>
#include <gtest/gtest.h>

using namespace gma;
using namespace gma::frontend;

namespace {

const char *kHeader = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                      "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n";

VnnlibProperty parseOk(const std::string &text) {
  auto p = parseVnnlib(text, "t.vnnlib");
  EXPECT_TRUE(static_cast<bool>(p)) << (p ? "" : p.error().str());
  return p ? *p : VnnlibProperty{};
}

TEST(Vnnlib, BoxAndSingleOutputConstraint) {
  auto p = parseOk(std::string(kHeader) +
                   "; a comment\n(assert (<= X_0 0.5))\n(assert (>= X_0 -0.5))\n"
                   "(assert (<= X_1 1e-1))  (assert (>= X_1 0))\n(assert (>= Y_0 3.99))\n");
  EXPECT_EQ(p.numInputs, 2);
  EXPECT_EQ(p.numOutputs, 3);
  ASSERT_EQ(p.cases.size(), 1u);
  EXPECT_EQ(p.cases[0].lo, (std::vector<double>{-0.5, 0}));
  EXPECT_EQ(p.cases[0].hi, (std::vector<double>{0.5, 0.1}));
  ASSERT_EQ(p.cases[0].disjuncts.size(), 1u);
  // Y_0 >= 3.99  ⇔  -Y_0 <= -3.99.
  const auto &c = p.cases[0].disjuncts[0];
  ASSERT_EQ(c.C.size(), 1u);
  EXPECT_EQ(c.C[0], (std::vector<double>{-1, 0, 0}));
  EXPECT_EQ(c.d[0], -3.99);
}

TEST(Vnnlib, DisjunctionOfOutputConjunctions) {
  // ACAS Xu property 2 style: Y_0 is the largest of the outputs.
  auto p = parseOk(std::string(kHeader) +
                   "(assert (<= X_0 1)) (assert (>= X_0 0)) (assert (<= X_1 1)) (assert (>= X_1 0))\n"
                   "(assert (or (and (>= Y_0 Y_1) (>= Y_0 Y_2)) (and (<= Y_1 (+ Y_2 (* 2 -0.5))))))\n");
  ASSERT_EQ(p.cases.size(), 1u);
  ASSERT_EQ(p.cases[0].disjuncts.size(), 2u);
  const auto &a = p.cases[0].disjuncts[0];
  ASSERT_EQ(a.C.size(), 2u);
  EXPECT_EQ(a.C[0], (std::vector<double>{-1, 1, 0})); // Y_1 - Y_0 <= 0
  EXPECT_EQ(a.d[0], 0);
  const auto &b = p.cases[0].disjuncts[1];
  EXPECT_EQ(b.C[0], (std::vector<double>{0, 1, -1})); // Y_1 - Y_2 <= -1
  EXPECT_EQ(b.d[0], -1);
}

TEST(Vnnlib, DisjunctionOfInputBoxes) {
  auto p = parseOk(std::string(kHeader) +
                   "(assert (or (and (<= X_0 1) (>= X_0 0) (<= X_1 1) (>= X_1 0))\n"
                   "            (and (<= X_0 3) (>= X_0 2) (<= X_1 1) (>= X_1 0))))\n"
                   "(assert (<= Y_2 Y_1))\n");
  ASSERT_EQ(p.cases.size(), 2u);
  EXPECT_EQ(p.cases[1].lo[0], 2);
  EXPECT_EQ(p.cases[1].disjuncts.size(), 1u);
}

struct Bad {
  std::string text;
  ErrorCode code;
  int line;
};

TEST(Vnnlib, ErrorsNameLineAndCode) {
  std::string box = "(assert (<= X_0 1)) (assert (>= X_0 0)) (assert (<= X_1 1)) (assert (>= X_1 0))\n";
  const Bad cases[] = {
      {std::string(kHeader) + box + "(assert (<= Y_0 1)", ErrorCode::VnnlibSyntax, 7},
      {std::string(kHeader) + box + "(assert (<= Y_0 Z_3))\n", ErrorCode::VnnlibSyntax, 7},
      {std::string(kHeader) + box + "(assert (< Y_0 1))\n", ErrorCode::VnnlibUnsupported, 7},
      {std::string(kHeader) + "(assert (<= X_0 1)) (assert (>= X_0 0))\n(assert (<= Y_0 1))\n",
       ErrorCode::VnnlibUnbounded, 6},
      {std::string(kHeader) + box + "(assert (<= (* Y_0 Y_1) 1))\n", ErrorCode::VnnlibUnsupported, 7},
      {std::string(kHeader) + box + "(assert (<= X_0 Y_1))\n", ErrorCode::VnnlibUnsupported, 7},
      {"(declare-const X_0 Real)\n(declare-const X_2 Real)\n(declare-const Y_0 Real)\n",
       ErrorCode::VnnlibDimension, 1},
      {std::string(kHeader) + box + "(assert (<= Y_0 1)))\n", ErrorCode::VnnlibSyntax, 7},
  };
  for (const Bad &b : cases) {
    auto p = parseVnnlib(b.text, "bad.vnnlib");
    ASSERT_FALSE(static_cast<bool>(p)) << b.text;
    EXPECT_EQ(p.error().code(), b.code) << p.error().str();
    EXPECT_EQ(p.error().location().line, b.line) << p.error().str();
    EXPECT_EQ(p.error().location().file, "bad.vnnlib");
  }
}

TEST(Vnnlib, MissingFile) {
  auto p = parseVnnlibFile("/nonexistent/prop.vnnlib");
  ASSERT_FALSE(static_cast<bool>(p));
  EXPECT_EQ(p.error().code(), ErrorCode::FileNotFound);
}

TEST(Vnnlib, DeepNestingIsAnErrorNotACrash) {
  std::string deep = std::string(kHeader) + "(assert ";
  for (int i = 0; i < 50000; ++i)
    deep += "(and ";
  auto p = parseVnnlib(deep, "deep.vnnlib");
  ASSERT_FALSE(static_cast<bool>(p));
}

TEST(Vnnlib, ParsesEverySharedProperty) {
  std::filesystem::path root = std::filesystem::path(GAMMA_SHARED_DIR) / "benchmarks" / "vnncomp";
  if (!std::filesystem::exists(root))
    GTEST_SKIP() << "../shared is absent: skipping the VNN-COMP properties";
  int parsed = 0;
  for (const char *cat : {"acasxu", "mnist_fc", "eran", "test", "dist_shift"}) {
    auto dir = root / cat / "vnnlib";
    if (!std::filesystem::exists(dir))
      continue;
    for (const auto &entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".vnnlib")
        continue;
      auto p = parseVnnlibFile(entry.path().string());
      ASSERT_TRUE(static_cast<bool>(p)) << p.error().str();
      EXPECT_FALSE(p->cases.empty()) << entry.path();
      ++parsed;
    }
  }
  EXPECT_GT(parsed, 10);
}

} // namespace

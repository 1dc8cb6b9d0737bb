//===- test/unit/vnnlib/VnnLibTest.cpp - VNN-LIB parsing ------------------===//
#include "frontend/vnnlib/VnnLib.h"

#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

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

// --- Hostile input (issue 10): each of these failed before the fix. --------

const char *kBox = "(assert (<= X_0 1)) (assert (>= X_0 0)) (assert (<= X_1 1)) (assert (>= X_1 0))\n";

ErrorCode errorOf(const std::string &text) {
  auto p = parseVnnlib(text, "h.vnnlib");
  EXPECT_FALSE(static_cast<bool>(p)) << text.substr(0, 200);
  return p ? ErrorCode::FileNotFound : p.error().code();
}

TEST(VnnlibHostile, EmptyInputRegionIsAnError) {
  // lower > upper: before, the box was dropped and the property had no case
  // at all (a vacuous verdict, NaN bounds).
  EXPECT_EQ(errorOf(std::string(kHeader) + "(assert (>= X_0 1)) (assert (<= X_0 0))\n"
                    "(assert (<= X_1 1)) (assert (>= X_1 0)) (assert (<= Y_0 1))\n"),
            ErrorCode::VnnlibEmptyRegion);
  EXPECT_EQ(errorOf(std::string(kHeader) + kBox + "(assert (<= 1 0))\n"),
            ErrorCode::VnnlibEmptyRegion);
  // One empty disjunct beside a non-empty one is a legal union.
  auto p = parseOk(std::string(kHeader) +
                   "(assert (or (and (<= X_0 0) (>= X_0 1) (<= X_1 1) (>= X_1 0))\n"
                   "            (and (<= X_0 3) (>= X_0 2) (<= X_1 1) (>= X_1 0))))\n"
                   "(assert (<= Y_2 Y_1))\n");
  ASSERT_EQ(p.cases.size(), 1u);
  EXPECT_EQ(p.cases[0].lo[0], 2);
}

TEST(VnnlibHostile, NumbersMustBeFiniteDecimals) {
  std::string pre = std::string(kHeader) + kBox;
  for (const char *n : {"inf", "-infinity", "nan", "0x1p3", "1.5abc", "1e", ".", "--1"})
    EXPECT_EQ(errorOf(pre + "(assert (<= Y_0 " + n + "))\n"), ErrorCode::VnnlibSyntax) << n;
  // A NUL byte used to end the number silently ("3.0\0garbage" read as 3).
  EXPECT_EQ(errorOf(pre + std::string("(assert (<= Y_0 3.0\0garbage))\n", 30)),
            ErrorCode::VnnlibSyntax);
  EXPECT_EQ(errorOf(pre + "(assert (<= Y_0 1e400))\n"), ErrorCode::VnnlibNumber);
  EXPECT_EQ(errorOf(pre + "(assert (<= Y_0 (* 1e200 1e200)))\n"), ErrorCode::VnnlibNumber);
  EXPECT_EQ(errorOf(pre + "(assert (<= Y_0 (- (* 1e200 1e200) (* 1e200 1e200))))\n"),
            ErrorCode::VnnlibNumber);
  auto p = parseOk(pre + "(assert (<= Y_0 +1.5e-3))\n(assert (<= Y_1 1e-400))\n");
  ASSERT_EQ(p.cases.size(), 1u);
  EXPECT_EQ(p.cases[0].disjuncts[0].d[0], 1.5e-3);
}

TEST(VnnlibHostile, NestingIsCappedWithACode) {
  // Depth 5,000 was accepted and overflowed the stack under ASan.
  for (int depth : {300, 5000, 100000}) {
    std::string deep = std::string(kHeader) + kBox + "(assert ";
    for (int i = 0; i < depth; ++i)
      deep += "(and ";
    deep += "(<= Y_0 1)";
    for (int i = 0; i < depth; ++i)
      deep += ")";
    deep += ")\n";
    EXPECT_EQ(errorOf(deep), ErrorCode::VnnlibLimit) << depth;
  }
}

TEST(VnnlibHostile, DisjunctionExpansionIsCapped) {
  // 20 two-way ors expand to 2^20 conjunctions: std::bad_alloc before.
  std::string text = std::string(kHeader) + kBox;
  for (int i = 0; i < 20; ++i)
    text += "(assert (or (<= Y_0 1) (<= Y_1 2)))\n";
  EXPECT_EQ(errorOf(text), ErrorCode::VnnlibLimit);
}

TEST(VnnlibHostile, SpecialFilesAreRefusedUnread) {
  auto z = parseVnnlibFile("/dev/zero");
  ASSERT_FALSE(static_cast<bool>(z));
  EXPECT_EQ(z.error().code(), ErrorCode::FileNotFound);
  // A FIFO with no writer: a blocking open() would never return.
  std::filesystem::path fifo =
      std::filesystem::temp_directory_path() / ("gamma-vnnlib-fifo-" + std::to_string(::getpid()));
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto f = parseVnnlibFile(fifo.string());
  std::filesystem::remove(fifo);
  ASSERT_FALSE(static_cast<bool>(f));
  EXPECT_EQ(f.error().code(), ErrorCode::FileNotFound);
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

namespace gma::frontend {
namespace {

// The parser says which bounds and thresholds are exactly the decimals as
// written: gamma verify rounds only the others to the safe side, so
// counterexamples exactly on an exact face or threshold are still found.
TEST(VnnlibExactness, DecimalsAndArithmetic) {
  std::string text = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                     "(declare-const X_2 Real)\n(declare-const Y_0 Real)\n"
                     "(assert (>= X_0 0.5))\n(assert (<= X_0 1))\n"
                     "(assert (>= X_1 0.1))\n(assert (<= X_1 2.5e0))\n"
                     "(assert (>= X_2 0.029999999329447746))\n(assert (<= (* 3 X_2) 1))\n"
                     "(assert (or (>= Y_0 (* 0.5 4)) (<= Y_0 1e-1)))\n";
  auto p = parseVnnlib(text, "exact.vnnlib");
  ASSERT_TRUE(p) << p.error().str();
  ASSERT_EQ(p->cases.size(), 1u);
  const PropertyCase &c = p->cases[0];
  EXPECT_TRUE(c.loExact[0]);  // 0.5
  EXPECT_TRUE(c.hiExact[0]);  // 1
  EXPECT_FALSE(c.loExact[1]); // 0.1
  EXPECT_TRUE(c.hiExact[1]);  // 2.5e0
  EXPECT_FALSE(c.loExact[2]); // a 17-digit decimal of an f32 is not that f32
  EXPECT_FALSE(c.hiExact[2]); // 1/3
  ASSERT_EQ(c.disjuncts.size(), 2u);
  for (const OutputConjunction &oc : c.disjuncts) {
    ASSERT_EQ(oc.d.size(), 1u);
    // -Y_0 <= -2 (0.5·4 is exact) and Y_0 <= 0.1 (not a double).
    EXPECT_EQ(oc.exact[0], oc.d[0] == -2.0) << oc.d[0];
  }
}

// Exactness of single decimals, through the fast integer tests and the
// printed-expansion fallback alike.
TEST(VnnlibExactness, Decimals) {
  const std::pair<const char *, bool> cases[] = {
      {"0.0", true},
      {"-0.0", true},
      {"3", true},
      {"-2.5", true},
      {"0.0000152587890625", true},      // 2^-16: m = 5^16
      {"0.000000476837158203125", true}, // 2^-21
      {"9007199254740992", true},        // 2^53
      {"9007199254740993", false},       // 2^53 + 1 (fallback)
      {"18014398509481984", true},       // 2^54 (fallback)
      {"0.15", false},
      {"1e-30", false},
      {"0.1000000000000000055511151231257827021181583404541015625", true}, // the double of 0.1
      {"0.1000000000000000055511151231257827021181583404541015624", false},
      {"1.25e-1", true},
      {"12.5e-2", true},
  };
  for (const auto &[num, exact] : cases) {
    std::string text = fmt::format("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"
                                   "(assert (>= X_0 {}))\n(assert (<= X_0 1e30))\n"
                                   "(assert (>= Y_0 0))\n",
                                   num);
    auto p = parseVnnlib(text, "exact.vnnlib");
    ASSERT_TRUE(p) << num << ": " << p.error().str();
    EXPECT_EQ(p->cases[0].loExact[0], exact) << num;
  }
}

} // namespace
} // namespace gma::frontend

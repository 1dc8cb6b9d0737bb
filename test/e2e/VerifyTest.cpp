//===- test/e2e/VerifyTest.cpp - `gamma verify` on ACAS Xu ----------------===//
//
// Runs the gamma binary on ACAS Xu instances whose ground truth is known
// (../shared/benchmarks/vnncomp/acasxu/ground_truth.csv) and checks:
//  - zero wrong answers: a verdict is either the ground truth or
//    unknown/timeout, and the quick instances below must be solved;
//  - every counterexample independently: the input lies in the VNN-LIB box as
//    written (double), the JIT-compiled model maps it to exactly the printed
//    outputs, and they satisfy every row of some output conjunction;
//  - the timeout path (a hard instance with a short budget), the compile
//    cache (a hit on the second run, a corrupt entry rebuilt) and
//    deterministic mode.
// Skipped when ../shared is absent.
//
//===----------------------------------------------------------------------===//
#include "frontend/vnnlib/VnnLib.h"
#include "test/e2e/E2eSupport.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace gma::e2e {
namespace {

namespace fs = std::filesystem;

std::string acas() { return sharedDir() + "/benchmarks/vnncomp/acasxu"; }
std::string gammaBin() { return std::string(GAMMA_BINARY_DIR) + "/tools/gamma"; }

std::string netPath(const std::string &net) {
  return acas() + "/onnx/ACASXU_run2a_" + net + "_batch_2000.onnx";
}
std::string propPath(const std::string &prop) { return acas() + "/vnnlib/" + prop + ".vnnlib"; }

/// A cache directory private to this test process.
std::string cacheDir() {
  static std::string dir = ::testing::TempDir() + "gamma_verify_cache_" + std::to_string(getpid());
  return dir;
}

/// Removes the private cache directory when the tests end.
class CacheCleanup : public ::testing::Environment {
public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(cacheDir(), ec);
  }
};
[[maybe_unused]] ::testing::Environment *const cleanup =
    ::testing::AddGlobalTestEnvironment(new CacheCleanup);

struct ToolRun {
  int exitCode = -1;
  std::string out;
  double seconds = 0;
};

ToolRun runGamma(const std::string &args) {
  std::string cmd = "GAMMA_CACHE_DIR='" + cacheDir() + "' '" + gammaBin() + "' " + args;
  ToolRun r;
  auto t = std::chrono::steady_clock::now();
  FILE *p = popen(cmd.c_str(), "r");
  if (!p)
    return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  return r;
}

std::string readText(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// ground_truth.csv: (onnx, vnnlib) → result.
std::map<std::pair<std::string, std::string>, std::string> groundTruth() {
  std::map<std::pair<std::string, std::string>, std::string> t;
  std::ifstream in(acas() + "/ground_truth.csv");
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ','))
      f.push_back(cell);
    if (f.size() > 4)
      t[{f[1], f[2]}] = f[4];
  }
  return t;
}

std::string expected(const std::string &net, const std::string &prop) {
  static auto truth = groundTruth();
  auto it = truth.find({"onnx/ACASXU_run2a_" + net + "_batch_2000.onnx", "vnnlib/" + prop + ".vnnlib"});
  return it == truth.end() ? "" : it->second;
}

/// Checks a `sat` result file against the property and the JIT-compiled model.
void checkCounterexample(const std::string &net, const std::string &prop,
                         const std::string &resultText) {
  std::regex entry(R"(\((X|Y)_(\d+) ([^)\s]+)\))");
  std::vector<double> x(5, NAN), y(5, NAN);
  for (auto it = std::sregex_iterator(resultText.begin(), resultText.end(), entry);
       it != std::sregex_iterator(); ++it) {
    size_t i = std::stoul((*it)[2]);
    ASSERT_LT(i, 5u);
    ((*it)[1] == "X" ? x : y)[i] = std::stod((*it)[3]);
  }
  auto p = frontend::parseVnnlibFile(propPath(prop));
  ASSERT_TRUE(p) << p.error().str();
  auto model = compileModel(netPath(net));
  ASSERT_TRUE(model);
  std::vector<float> xf(5), yf(5);
  for (int i = 0; i < 5; ++i) {
    xf[i] = static_cast<float>(x[i]);
    ASSERT_EQ(static_cast<double>(xf[i]), x[i]) << "X_" << i << " is not an exact f32";
  }
  runtime::Kernels k(model->jit->info());
  k.eval(xf.data(), yf.data(), 1);
  for (int j = 0; j < 5; ++j)
    EXPECT_EQ(static_cast<double>(yf[j]), y[j]) << "Y_" << j << " differs from the model's output";
  bool someCase = false;
  for (const frontend::PropertyCase &c : p->cases) {
    bool inBox = true;
    for (int i = 0; i < 5; ++i)
      inBox = inBox && x[i] >= c.lo[i] && x[i] <= c.hi[i];
    if (!inBox)
      continue;
    for (const frontend::OutputConjunction &conj : c.disjuncts) {
      bool holds = true;
      for (size_t r = 0; r < conj.C.size(); ++r) {
        double s = 0;
        for (int j = 0; j < 5; ++j)
          s += conj.C[r][j] * static_cast<double>(yf[j]);
        holds = holds && s <= conj.d[r];
      }
      someCase = someCase || holds;
    }
  }
  EXPECT_TRUE(someCase) << "the counterexample satisfies no case of " << prop << ":\n"
                        << resultText;
}

class AcasXu : public ::testing::TestWithParam<std::pair<const char *, const char *>> {
protected:
  void SetUp() override {
    if (!haveShared())
      GTEST_SKIP() << "../shared is absent";
  }
};

// Quick instances (a second or two here): all must be solved, correctly.
TEST_P(AcasXu, SolvesWithTheGroundTruthVerdict) {
  auto [net, prop] = GetParam();
  std::string truth = expected(net, prop);
  ASSERT_TRUE(truth == "sat" || truth == "unsat") << net << " " << prop;
  std::string result = ::testing::TempDir() + "gamma_verify_" + net + "_" + prop + "_" + std::to_string(getpid()) + ".txt";
  ToolRun r = runGamma("verify '" + netPath(net) + "' '" + propPath(prop) + "' --timeout 60 --result '" +
                   result + "'");
  ASSERT_EQ(r.exitCode, 0) << r.out;
  std::string text = readText(result);
  std::string verdict = text.substr(0, text.find('\n'));
  EXPECT_EQ(r.out, verdict + "\n");
  ASSERT_EQ(verdict, truth) << net << " " << prop << " (a wrong answer is release-blocking)";
  if (verdict == "sat")
    checkCounterexample(net, prop, text);
  else
    EXPECT_EQ(text, verdict + "\n");
  std::remove(result.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Quick, AcasXu,
    ::testing::Values(std::make_pair("1_1", "prop_1"), std::make_pair("1_9", "prop_1"),
                      std::make_pair("4_4", "prop_1"), std::make_pair("5_1", "prop_4"),
                      std::make_pair("4_9", "prop_4"), std::make_pair("2_1", "prop_2"),
                      std::make_pair("3_1", "prop_2"), std::make_pair("3_5", "prop_2"),
                      std::make_pair("1_2", "prop_2")),
    [](const auto &info) {
      return std::string("net") + info.param.first + "_" + info.param.second;
    });

// A property that holds but needs a long search: a 2 s budget ends in
// `timeout`, written to the result file, compilation on a cold cache
// included. The time checked is gamma's own figure (time_s counts from its
// process start), not this test's clock: on a loaded machine the test's
// clock also measures process start-up and scheduling.
TEST(Verify, TimeoutIsAnswerNotError) {
  if (!haveShared())
    GTEST_SKIP() << "../shared is absent";
  ASSERT_EQ(expected("3_3", "prop_2"), "unsat");
  std::string result = ::testing::TempDir() + "gamma_verify_timeout_" + std::to_string(getpid()) + ".txt";
  ToolRun r = runGamma("verify '" + netPath("3_3") + "' '" + propPath("prop_2") +
                       "' --timeout 2 --json --result '" + result + "'");
  EXPECT_EQ(r.exitCode, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "timeout");
  EXPECT_LE(j["time_s"].get<double>(), 2.0);
  EXPECT_EQ(readText(result), "timeout\n");
  std::remove(result.c_str());
}

// The second run on a model loads the cached library; a corrupt entry is
// ignored and rebuilt; answers do not change.
TEST(Verify, CompileCacheHitsAndRepairs) {
  if (!haveShared())
    GTEST_SKIP() << "../shared is absent";
  std::string args = "verify '" + netPath("1_9") + "' '" + propPath("prop_1") + "' --json";
  auto kernels = [&](const ToolRun &r) {
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["verdict"], "unsat");
    return j["kernels"].get<std::string>();
  };
  ToolRun first = runGamma(args);
  ASSERT_EQ(first.exitCode, 0) << first.out;
  std::string k1 = kernels(first);
  EXPECT_TRUE(k1 == "compiled" || k1 == "cache") << k1;
  EXPECT_EQ(kernels(runGamma(args)), "cache");
  // Corrupt every entry of the cache.
  int corrupted = 0;
  for (auto &e : fs::directory_iterator(cacheDir()))
    if (e.path().extension() == ".so") {
      std::ofstream(e.path(), std::ios::trunc) << "not an ELF file";
      ++corrupted;
    }
  EXPECT_GT(corrupted, 0);
  EXPECT_EQ(kernels(runGamma(args)), "compiled");
  EXPECT_EQ(kernels(runGamma(args)), "cache");
}

// --deterministic: identical search statistics on every run.
TEST(Verify, DeterministicRunsRepeat) {
  if (!haveShared())
    GTEST_SKIP() << "../shared is absent";
  std::string args = "verify '" + netPath("1_2") + "' '" + propPath("prop_1") +
                     "' --json --deterministic --timeout 60";
  auto a = nlohmann::json::parse(runGamma(args).out);
  auto b = nlohmann::json::parse(runGamma(args).out);
  EXPECT_EQ(a["verdict"], "unsat");
  EXPECT_EQ(a["verdict"], b["verdict"]);
  EXPECT_EQ(a["domains"], b["domains"]);
  EXPECT_EQ(a["bound_calls"], b["bound_calls"]);
  EXPECT_EQ(a["max_queue"], b["max_queue"]);
}

} // namespace
} // namespace gma::e2e

//===- test/unit/codegen/AotTest.cpp - Shared libraries, headers, text ----===//
//
// The AOT outputs: a shared library loaded through runtime::VerifierLibrary
// computes exactly what the JIT computes; the descriptor is filled in; the C
// header compiles together with abi/KernelAbi.h and a C program linked
// against the library runs; LLVM IR and assembly show the kernels and host
// vector code; a failing link leaves nothing behind.
//
//===----------------------------------------------------------------------===//
#include "abi/KernelAbiTable.h"
#include "codegen/Compiler.h"
#include "generated/Version.h"
#include "runtime/VerifierLibrary.h"
#include "test/unit/codegen/TestSupport.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gma::test {
namespace {

namespace fs = std::filesystem;

/// A fresh, empty directory under the build tree, removed afterwards.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gamma-aot-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? fs::path(tmpl) : fs::path();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string &name) const { return path_ / name; }
  const fs::path &path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> r;
    for (const auto &e : fs::directory_iterator(path_))
      r.push_back(e.path().filename().string());
    return r;
  }

private:
  fs::path path_;
};

TEST(Aot, SharedLibraryMatchesJit) {
  std::mt19937 rng(1);
  Graph g = mlpWithViews(rng);
  g.name = "mlp_views";
  TempDir dir;
  codegen::CodegenOptions opts;
  opts.prefix = "mlpv";
  opts.modelDigest = "0123456789abcdef0123456789abcdef";
  std::string so = (dir / "mlpv_verifier.so").string();
  Status st = codegen::emitToFile(g, codegen::EmitKind::SharedLibrary, so, opts);
  ASSERT_TRUE(st) << st.error().str();
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"mlpv_verifier.so"}) << "temporaries left";

  auto lib = runtime::VerifierLibrary::open(so);
  ASSERT_TRUE(lib) << lib.error().str();
  const gamma_kernel_info *info = (*lib)->info();
  EXPECT_STREQ(info->model_name, "mlp_views");
  EXPECT_STREQ(info->compiler_version, GAMMA_VERSION);
  EXPECT_STREQ(info->model_digest, "0123456789abcdef0123456789abcdef");
  ASSERT_EQ(info->input_rank, 2);
  EXPECT_EQ(info->input_shape[0], 1);
  EXPECT_EQ(info->input_shape[1], 6);
  ASSERT_EQ(info->output_rank, 2);
  EXPECT_EQ(info->output_shape[1], 4);
  EXPECT_EQ(info->eval_scratch_floats_per_sample, 10);
  EXPECT_EQ(info->ibp_scratch_floats_per_sample, 20);

  auto jit = codegen::JitVerifier::compile(g, opts);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels aot(info), jitK((*jit)->info());
  const int64_t batch = 17;
  std::vector<float> x = randomVector(rng, batch * 6), xlo(x), xhi(x);
  for (size_t i = 0; i < x.size(); ++i) {
    xlo[i] -= 0.25f;
    xhi[i] += 0.125f;
  }
  std::vector<float> y1(batch * 4), y2(batch * 4), l1(batch * 4), h1(batch * 4), l2(batch * 4),
      h2(batch * 4);
  aot.eval(x.data(), y1.data(), batch);
  jitK.eval(x.data(), y2.data(), batch);
  aot.ibp(xlo.data(), xhi.data(), l1.data(), h1.data(), batch);
  jitK.ibp(xlo.data(), xhi.data(), l2.data(), h2.data(), batch);
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(l1.data(), l2.data(), l1.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(h1.data(), h2.data(), h1.size() * sizeof(float)));
}

TEST(Aot, HeaderCompilesWithKernelAbiAndLinks) {
  std::mt19937 rng(2);
  Graph g = mlpWithViews(rng);
  TempDir dir;
  codegen::CodegenOptions opts;
  opts.prefix = "demo";
  std::string so = (dir / "libdemo.so").string(), h = (dir / "demo_verifier.h").string();
  ASSERT_TRUE(codegen::emitToFile(g, codegen::EmitKind::SharedLibrary, so, opts));
  Status st = codegen::emitToFile(g, codegen::EmitKind::Header, h, opts);
  ASSERT_TRUE(st) << st.error().str();

  // A C program that includes both headers, checks the #defines, runs eval.
  std::ofstream(dir / "main.c") << R"(#include "demo_verifier.h"
#include "abi/KernelAbi.h"
#include <stdalign.h>
#include <stdio.h>
_Static_assert(DEMO_INPUT_SIZE == 6, "input size");
_Static_assert(DEMO_OUTPUT_SIZE == 4, "output size");
_Static_assert(DEMO_IBP_SCRATCH_FLOATS_PER_SAMPLE == 2 * DEMO_EVAL_SCRATCH_FLOATS_PER_SAMPLE, "");
int main(void) {
  alignas(DEMO_SCRATCH_ALIGNMENT) static float scratch[DEMO_EVAL_SCRATCH_FLOATS_PER_SAMPLE * 2];
  float x[12] = {0}, y[8];
  demo_eval(x, y, 2, scratch);
  const gamma_kernel_info *info = demo_info();
  if (info != gamma_verifier_info() || info->abi_version != GAMMA_KERNEL_ABI_VERSION) return 1;
  return y[0] == y[4] ? 0 : 2;
}
)";
  std::string cmd = "cc -std=c11 -Wall -Werror -I" + std::string(GAMMA_SOURCE_DIR) + " -o " +
                    (dir / "demo").string() + " " + (dir / "main.c").string() + " " + so +
                    " -Wl,-rpath," + dir.path().string() + " && " + (dir / "demo").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The one ABI table (abi/KernelAbi.def) against both of its other forms: the
// LLVM struct type the emitter builds must have the table's field kinds in
// order, and the declarations a generated header carries must give, compiled
// alone by the C compiler, the offsets and size the runtime's C++ view of
// abi/KernelAbi.h has.
TEST(AbiTable, LlvmStructTypeFollowsTheTable) {
  std::mt19937 rng(5);
  Graph g = mlpWithViews(rng);
  codegen::CodegenOptions opts;
  opts.prefix = "abi";
  auto ir = codegen::emitToString(g, codegen::EmitKind::LlvmIr, opts);
  ASSERT_TRUE(ir) << ir.error().str();
  size_t at = ir->find("%gamma_kernel_info = type { ");
  ASSERT_NE(at, std::string::npos);
  std::string body = ir->substr(at, ir->find('}', at) - at);
  std::string expected = "%gamma_kernel_info = type { ";
  for (size_t i = 0; i < abi::kFieldCount; ++i) {
    auto k = abi::kFields[i].kind;
    expected += std::string(i ? ", " : "") +
                (k == abi::FieldKind::I32 ? "i32" : k == abi::FieldKind::I64 ? "i64" : "ptr");
  }
  EXPECT_EQ(body, expected + " ");
}

TEST(AbiTable, GeneratedHeaderHasTheRuntimeLayout) {
  std::mt19937 rng(6);
  Graph g = mlpWithViews(rng);
  TempDir dir;
  codegen::CodegenOptions opts;
  opts.prefix = "lay";
  std::string h = (dir / "lay_verifier.h").string();
  Status st = codegen::emitToFile(g, codegen::EmitKind::Header, h, opts);
  ASSERT_TRUE(st) << st.error().str();
  std::ofstream c(dir / "layout.c");
  c << "#include \"lay_verifier.h\"\n#include <stddef.h>\n";
  for (size_t i = 0; i < abi::kFieldCount; ++i)
    c << "_Static_assert(offsetof(gamma_kernel_info, " << abi::kFields[i].name
      << ") == " << abi::kFieldOffsets[i] << ", \"" << abi::kFields[i].name << "\");\n";
  c << "_Static_assert(sizeof(gamma_kernel_info) == " << sizeof(gamma_kernel_info)
    << ", \"size\");\n_Static_assert(GAMMA_KERNEL_ABI_VERSION == " << GAMMA_KERNEL_ABI_VERSION
    << "u, \"version\");\n";
  for (const abi::Kernel &k : abi::kKernels)
    c << "gamma_" << k.name << "_fn check_" << k.name << " = lay_" << k.name << ";\n";
  c.close();
  // Only the generated header is on the include path: it must stand alone.
  std::string cmd = "cc -std=c11 -Wall -Werror -c -o " + (dir / "layout.o").string() + " " +
                    (dir / "layout.c").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(Aot, LlvmIrAndAssemblyUseHostVectors) {
  std::mt19937 rng(3);
  GraphBuilder gb;
  ValueId x = gb.input({64});
  ValueId h = gb.op(OpKind::Affine,
                    {x, gb.constant({64, 128}, randomVector(rng, 64 * 128)),
                     gb.constant({128}, randomVector(rng, 128))},
                    {128}, 0, 0);
  ValueId r = gb.op(OpKind::Relu, {h}, {128}, 2, 0);
  gb.finish(r, 128);
  codegen::CodegenOptions opts;
  opts.prefix = "vec";
  auto ir = codegen::emitToString(gb.g, codegen::EmitKind::LlvmIr, opts);
  ASSERT_TRUE(ir) << ir.error().str();
  EXPECT_NE(ir->find("define void @vec_eval("), std::string::npos);
  EXPECT_NE(ir->find("define void @vec_ibp("), std::string::npos);
  EXPECT_NE(ir->find("@gamma_verifier_info("), std::string::npos);
  bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) {
    EXPECT_NE(ir->find("<16 x float>"), std::string::npos);
    EXPECT_NE(ir->find("<8 x double>"), std::string::npos);
    auto as = codegen::emitToString(gb.g, codegen::EmitKind::Assembly, opts);
    ASSERT_TRUE(as) << as.error().str();
    EXPECT_NE(as->find("zmm"), std::string::npos);
  }
}

TEST(Aot, FailedLinkLeavesNoFile) {
  std::mt19937 rng(4);
  Graph g = mlpWithViews(rng);
  TempDir dir;
  for (const char *linker : {"false", "/nonexistent/cc"}) {
    codegen::CodegenOptions opts;
    opts.linker = linker;
    std::string so = (dir / "m.so").string();
    Status st = codegen::emitToFile(g, codegen::EmitKind::SharedLibrary, so, opts);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::LinkFailed) << st.error().str();
    EXPECT_TRUE(dir.entries().empty()) << "left " << dir.entries().front();
  }
}

TEST(Aot, UnwritableDestinationIsFileWrite) {
  std::mt19937 rng(5);
  Status st = codegen::emitToFile(mlpWithViews(rng), codegen::EmitKind::LlvmIr,
                                  "/nonexistent-dir/x.ll");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::FileWrite);
}

} // namespace
} // namespace gma::test

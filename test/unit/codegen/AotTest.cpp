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

#include <algorithm>
#include <gtest/gtest.h>

#include <cstdlib>
#include <dlfcn.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

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
    std::sort(r.begin(), r.end());
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
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"mlpv_verifier.so", "mlpv_verifier.weights"}))
      << "temporaries left, or no weights file";

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
  runtime::Kernels aot(info, (*lib)->weights()), jitK((*jit)->info(), (*jit)->weights());
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

// The library is linked from the objects of two parts compiled on their own
// (codegen/SplitCompile.cpp): internal functions called across the parts
// become hidden symbols. Only the ABI's entries may be exported, or a second
// library of the same prefix in one process would interpose them.
TEST(Aot, SharedLibraryExportsOnlyTheAbiEntries) {
  std::mt19937 rng(1);
  Graph g = mlpWithViews(rng);
  TempDir dir;
  codegen::CodegenOptions opts;
  opts.prefix = "mlpx";
  std::string so = (dir / "mlpx_verifier.so").string();
  Status st = codegen::emitToFile(g, codegen::EmitKind::SharedLibrary, so, opts);
  ASSERT_TRUE(st) << st.error().str();
  void *h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  for (const char *entry : {"mlpx_eval", "mlpx_ibp", "mlpx_crown", "mlpx_grad", "mlpx_info",
                            "gamma_verifier_info"})
    EXPECT_NE(dlsym(h, entry), nullptr) << entry << " is not exported";
  for (const char *inner : {"mlpx_crown.box", "mlpx_crown.forward", "mlpx_crown.concretise",
                            "mlpx_crown.unstable", "mlpx_ibp.affine_0", "mlpx.fpenv_ok",
                            "gamma_scalar_relax"})
    EXPECT_EQ(dlsym(h, inner), nullptr) << inner << " is exported";
  dlclose(h);
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

  // A C program that includes both headers, checks the #defines, reads the
  // library's weights file, binds the table and runs eval on a fixed input.
  std::ofstream(dir / "main.c") << R"(#include "demo_verifier.h"
#include "abi/KernelAbi.h"
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
_Static_assert(DEMO_INPUT_SIZE == 6, "input size");
_Static_assert(DEMO_OUTPUT_SIZE == 4, "output size");
_Static_assert(DEMO_IBP_SCRATCH_FLOATS_PER_SAMPLE == 2 * DEMO_EVAL_SCRATCH_FLOATS_PER_SAMPLE, "");
int main(int argc, char **argv) {
  alignas(DEMO_SCRATCH_ALIGNMENT) static float scratch[DEMO_EVAL_SCRATCH_FLOATS_PER_SAMPLE * 2];
  const gamma_kernel_info *info = demo_info();
  if (argc != 2 || info != gamma_verifier_info() || info->abi_version != GAMMA_KERNEL_ABI_VERSION)
    return 1;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 3;
  void *bytes = aligned_alloc(64, (size_t)(info->weights_file_bytes + 63) / 64 * 64);
  size_t got = fread(bytes, 1, (size_t)info->weights_file_bytes + 1, f);
  fclose(f);
  const float **table = malloc(sizeof(float *) * (size_t)info->weights_count);
  if (gamma_bind_weights(info, bytes, (int64_t)got, table) != 0) return 4;
  float x[12], y[8];
  for (int i = 0; i < 12; ++i) x[i] = 0.125f * (float)(i - 5);
  demo_eval(table, x, y, 2, scratch);
  for (int i = 0; i < 8; ++i) printf("%a\n", (double)y[i]);
  /* A truncated file does not bind. */
  return gamma_bind_weights(info, bytes, (int64_t)got - 4, table) == 0 ? 5 : 0;
}
)";
  std::string exe = (dir / "demo").string(), out = (dir / "out.txt").string();
  std::string cmd = "cc -std=c11 -Wall -Werror -I" + std::string(GAMMA_SOURCE_DIR) + " -o " + exe +
                    " " + (dir / "main.c").string() + " " + so + " -Wl,-rpath," +
                    dir.path().string() + " && " + exe + " " + (dir / "libdemo.weights").string() +
                    " > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  // The same input through the JIT: the embedded library computes the same
  // floats (and not, say, the zeros of unbound weights).
  auto jit = codegen::JitVerifier::compile(g, opts);
  ASSERT_TRUE(jit) << jit.error().str();
  runtime::Kernels k((*jit)->info(), (*jit)->weights());
  std::vector<float> x(12), y(8);
  for (int i = 0; i < 12; ++i)
    x[i] = 0.125f * static_cast<float>(i - 5);
  k.eval(x.data(), y.data(), 2);
  std::ifstream in(out);
  std::string line;
  bool nonzero = false;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(std::getline(in, line)) << "missing output " << i;
    EXPECT_EQ(std::strtod(line.c_str(), nullptr), static_cast<double>(y[i])) << "output " << i;
    nonzero = nonzero || y[i] != 0.0f;
  }
  EXPECT_TRUE(nonzero);
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
  ValueId h = randomAffine(gb, rng, x, 64, 128, 1.0f, 1.0f, 0, 0);
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


// ABI 5: a library reads its weights from the .weights file beside it, and
// refuses one that is missing or not its own before any kernel runs.
TEST(Aot, WeightsFileIsCheckedBeforeUse) {
  std::mt19937 rng(11);
  Graph g = mlpWithViews(rng);
  TempDir dir;
  codegen::CodegenOptions opts;
  opts.prefix = "wf";
  opts.modelDigest = std::string(64, 'a');
  std::string so = (dir / "wf.so").string(), weights = (dir / "wf.weights").string();
  ASSERT_TRUE(codegen::emitToFile(g, codegen::EmitKind::SharedLibrary, so, opts));
  std::string good;
  {
    std::ifstream in(weights, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(good.size(), 64u);
  EXPECT_EQ(good.compare(0, 8, "GAMMAWT1"), 0);
  ASSERT_TRUE(runtime::VerifierLibrary::open(so));

  auto expectRefused = [&](const std::string &bytes, ErrorCode code, const char *what) {
    if (bytes.empty())
      fs::remove(weights);
    else
      std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
    auto lib = runtime::VerifierLibrary::open(so);
    ASSERT_FALSE(lib) << what;
    EXPECT_EQ(lib.error().code(), code) << what << ": " << lib.error().str();
  };
  expectRefused("", ErrorCode::VerifierLoad, "missing");
  expectRefused(good.substr(0, good.size() - 4), ErrorCode::VerifierMismatch, "truncated");
  std::string flipped = good;
  flipped[flipped.size() / 2 + 1] ^= 0x10; // one weight bit: same size and magic
  expectRefused(flipped, ErrorCode::VerifierMismatch, "one bit flipped");
  std::string magic = good;
  magic[0] = 'X';
  expectRefused(magic, ErrorCode::VerifierMismatch, "bad magic");

  // Another model's file of the same shapes (so the same size) is refused
  // by its digest.
  std::mt19937 rng2(12);
  Graph other = mlpWithViews(rng2);
  std::string otherSo = (dir / "other.so").string();
  ASSERT_TRUE(codegen::emitToFile(other, codegen::EmitKind::SharedLibrary, otherSo, opts));
  std::string foreign;
  {
    std::ifstream in((dir / "other.weights").string(), std::ios::binary);
    foreign.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_EQ(foreign.size(), good.size());
  ASSERT_NE(foreign, good);
  expectRefused(foreign, ErrorCode::VerifierMismatch, "another model's weights");
}

// Kernels are specialised to shapes, not to weight values: two models of
// the same shapes compile to the same machine code, and the code does not
// grow with the weights (a 512 x 512 layer is 1 MB of floats).
TEST(Aot, MachineCodeDoesNotDependOnWeightValues) {
  auto model = [](uint32_t seed) {
    std::mt19937 rng(seed);
    GraphBuilder gb;
    ValueId x = gb.input({512});
    ValueId h = randomAffine(gb, rng, x, 512, 512, 1.0f, 1.0f, 0, 0);
    ValueId r = gb.op(OpKind::Relu, {h}, {512}, 0, 0);
    ValueId y = randomAffine(gb, rng, r, 512, 8, 1.0f, 1.0f, 2, 0);
    gb.finish(y, 512);
    return std::move(gb.g);
  };
  codegen::CodegenOptions opts;
  opts.prefix = "big";
  opts.modelDigest = std::string(64, 'b');
  auto a = codegen::emitToString(model(1), codegen::EmitKind::Object, opts);
  auto b = codegen::emitToString(model(2), codegen::EmitKind::Object, opts);
  ASSERT_TRUE(a) << a.error().str();
  ASSERT_TRUE(b) << b.error().str();
  // The descriptor records the weights file's digest, which differs; the
  // objects may differ in those 64 characters only.
  ASSERT_EQ(a->size(), b->size());
  size_t differing = 0;
  for (size_t i = 0; i < a->size(); ++i)
    differing += (*a)[i] != (*b)[i];
  EXPECT_LE(differing, 64u);
  EXPECT_LT(a->size(), size_t(512 * 512 * 4) / 8) << "weights inside the object?";
}

} // namespace
} // namespace gma::test

//===- tools/gamma/Cache.cpp - Content-addressed cache of compiled models -===//
#include "tools/gamma/Cache.h"

#include "runtime/ModelHash.h"

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>

namespace gma::tools {
namespace {

namespace fs = std::filesystem;

/// Size and modification time of the running binary.
std::string selfFingerprint() {
  struct stat st;
  if (::stat("/proc/self/exe", &st) != 0)
    return "unknown";
  return fmt::format("{}:{}.{}", static_cast<long long>(st.st_size),
                     static_cast<long long>(st.st_mtim.tv_sec),
                     static_cast<long long>(st.st_mtim.tv_nsec));
}

} // namespace

std::string cacheDirectory() {
  if (const char *d = std::getenv("GAMMA_CACHE_DIR"); d && *d)
    return d;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return (fs::path(x) / "gamma").string();
  if (const char *h = std::getenv("HOME"); h && *h)
    return (fs::path(h) / ".cache" / "gamma").string();
  return (fs::temp_directory_path() / "gamma-cache").string();
}

std::string cacheKey(const std::string &modelBytes, const codegen::CodegenOptions &opts) {
  std::string desc = fmt::format("gamma {} abi {} exe {} cpu {} O{} prefix {}", GAMMA_VERSION,
                                 GAMMA_KERNEL_ABI_VERSION, selfFingerprint(), opts.cpu,
                                 opts.optLevel, opts.prefix);
  return fmt::format("{:016x}-{:016x}", runtime::fnv1a64(modelBytes), runtime::fnv1a64(desc));
}

Expected<CompiledKernels> loadOrCompile(const ir::Graph &optimized, const std::string &modelBytes,
                                        bool allowJit, std::string *note) {
  codegen::CodegenOptions copts;
  copts.modelHash = runtime::fnv1a64(modelBytes);
  int64_t inSize = optimized.type(optimized.inputs[0]).numel();
  int64_t outSize = optimized.type(optimized.outputs[0]).numel();
  auto matches = [&](const gamma_kernel_info *info) {
    return info->model_hash == copts.modelHash && info->input_size == inSize &&
           info->output_size == outSize;
  };

  fs::path dir = cacheDirectory();
  fs::path path = dir / (cacheKey(modelBytes, copts) + ".so");
  std::string why;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto lib = runtime::VerifierLibrary::open(path.string());
    if (lib && matches((*lib)->info())) {
      CompiledKernels k;
      k.library = std::move(*lib);
      k.info = k.library->info();
      k.source = "cache";
      k.path = path.string();
      return k;
    }
    // A corrupt or foreign entry: replace it (the rename below is atomic, so
    // a concurrent reader sees either the old file or the new one).
    why = lib ? "the cached library does not match the model" : lib.error().message();
  }
  fs::create_directories(dir, ec);
  if (!ec) {
    Status s = codegen::emitToFile(optimized, codegen::EmitKind::SharedLibrary, path.string(), copts);
    if (s) {
      auto lib = runtime::VerifierLibrary::open(path.string());
      if (lib && matches((*lib)->info())) {
        CompiledKernels k;
        k.library = std::move(*lib);
        k.info = k.library->info();
        k.source = "compiled";
        k.path = path.string();
        return k;
      }
      why = lib ? "the compiled library does not match the model" : lib.error().message();
    } else {
      why = s.error().str();
    }
  } else {
    why = fmt::format("cannot create the cache directory '{}': {}", dir.string(), ec.message());
  }
  if (!allowJit)
    return Error(ErrorCode::FileWrite, "cannot fill the compile cache: " + why);
  if (note)
    *note = "compile cache not used: " + why;
  auto jit = codegen::JitVerifier::compile(optimized, copts);
  if (!jit)
    return jit.takeError();
  CompiledKernels k;
  k.jit = std::move(*jit);
  k.info = k.jit->info();
  k.source = "jit";
  return k;
}

} // namespace gma::tools

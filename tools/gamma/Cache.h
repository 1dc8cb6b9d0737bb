//===- tools/gamma/Cache.h - Content-addressed cache of compiled models -*- C++ -*-===//
//
// `gamma verify` compiles a model on first sight into a shared library kept in
// a cache directory, and later runs on the same model load that library
// instead of compiling. Entries are named by a key over everything that
// determines the code: the model's bytes (FNV-1a), gamma's version, the kernel
// ABI, the gamma binary itself (size and modification time, so a rebuilt
// compiler never reuses stale code) and the code generation options.
//
// Directory: $GAMMA_CACHE_DIR, else $XDG_CACHE_HOME/gamma, else ~/.cache/gamma.
// Entries are written through a temporary and a rename (concurrent runs are
// safe); an entry that does not load or does not match the model is ignored
// and rebuilt.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Compiler.h"
#include "ir/Diagnostic.h"
#include "ir/Graph.h"
#include "runtime/VerifierLibrary.h"

#include <memory>
#include <string>

namespace gma::tools {

/// Compiled kernels for one model and where they came from.
struct CompiledKernels {
  std::unique_ptr<runtime::VerifierLibrary> library;
  std::unique_ptr<codegen::JitVerifier> jit;
  const gamma_kernel_info *info = nullptr;
  /// "cache" (loaded), "compiled" (built into the cache now), "jit" (no cache).
  std::string source;
  std::string path; ///< The library's path, if any.
};

/// The cache directory (not created).
std::string cacheDirectory();

/// The cache key of a model (hex).
std::string cacheKey(const std::string &modelBytes, const codegen::CodegenOptions &opts);

/// Kernels for `optimized` (the default pipeline has run on the graph of
/// `modelBytes`): from the cache, or compiled into it. When the cache cannot
/// be used (unwritable directory, no linker) and `allowJit`, compiles in
/// process instead and says why in `note`.
Expected<CompiledKernels> loadOrCompile(const ir::Graph &optimized, const std::string &modelBytes,
                                        bool allowJit, std::string *note = nullptr);

} // namespace gma::tools

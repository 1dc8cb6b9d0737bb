//===- tools/gamma/Cache.h - Content-addressed cache of compiled models -*- C++ -*-===//
//
// `gamma verify` compiles a model on first sight into a shared library kept in
// a cache directory, and later runs on the same model load that library
// instead of compiling.
//
// Identity. An entry is named by a BLAKE3 key (support/Hash.h) over every
// byte that determines its code: the unoptimised kernel module it is
// compiled from (codegen::codeDigest: the graph's structure, shapes and any
// value the emitters inline, but not the weights, which the kernels read
// through the weight table), the code-generation fingerprint (a digest of
// gamma's code-generating sources, the C++ compiler and LLVM, computed at
// build time: a rebuild that changes none of them keeps the cache), the
// kernel ABI, the code generation options and the resolved target CPU and
// features. The library records its key, and a loaded entry must carry the
// very key it is looked up for. Its kernels are bound at load to the
// weights of the graph being run (mapped from the model's files in this
// run), so a changed weight, in the .onnx or in an external-data file, can
// never be answered with old values; models that differ only in their
// weights (the 45 ACAS Xu networks) share one entry.
//
// Integrity. Each entry `<key>.so` has a digest file `<key>.so.b3` beside it
// holding the BLAKE3 digest of the library's bytes. Loading reads the library
// through one descriptor (regular file, owned by the user), checks the digest
// and dlopens that same descriptor; an entry that is missing its digest,
// differs from it, or is not a regular file is removed and rebuilt, never
// executed.
//
// Directory: $GAMMA_CACHE_DIR, else $XDG_CACHE_HOME/gamma, else
// ~/.cache/gamma, else $TMPDIR/gamma-cache-<uid>. It is created with mode
// 0700; a directory that the user does not own or that group or others can
// write is refused (the run then compiles in process). Entries are written
// through a temporary and a rename (concurrent runs are safe); temporaries
// left by a killed run are removed after an hour.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Compiler.h"
#include "support/Diagnostic.h"
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
  const float *const *weights = nullptr; ///< The table the kernels take first.
  /// "cache" (loaded), "compiled" (built into the cache now), "jit" (no cache).
  std::string source;
  std::string path; ///< The library's path, if any.
};

/// The cache directory (not created).
std::string cacheDirectory();

/// The cache key of kernels whose unoptimised module has `codeDigest`
/// (codegen::codeDigest) under `opts`; InvalidArgument if the target CPU is
/// unknown.
Expected<std::string> cacheKey(const std::string &codeDigest,
                               const codegen::CodegenOptions &opts);

/// Kernels for `optimized` (a graph the default pipeline has run on): from
/// the cache, or compiled into it. When the cache cannot be used (unwritable or unsafe directory, no
/// linker) and `allowJit`, compiles in process instead and says why in
/// `note`.
Expected<CompiledKernels> loadOrCompile(const ir::Graph &optimized, bool allowJit,
                                        std::string *note = nullptr);

} // namespace gma::tools

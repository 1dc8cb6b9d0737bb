//===- codegen/Compiler.h - IR to native kernels (AOT and JIT) --*- C++ -*-===//
//
// Turns a planned ir::Graph (plan-buffers has run) into the kernels of
// abi/KernelAbi.h: batched `eval` and `ibp`, specialised to the graph's
// static shapes and vectorised for the target CPU by LLVM 19.
//
// Ahead of time: LLVM IR, assembly, an object file, the C header, or a shared
// library (object linked with the system linker). Files are written to a
// temporary and renamed, so a failure never leaves a partial file.
// Just in time: the same module through ORC LLJIT, in process.
//
// LLVM headers stay inside codegen/*.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"
#include "ir/Graph.h"
#include "abi/KernelAbi.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gma::codegen {

struct KernelPlan; // codegen/KernelPlan.h

struct CodegenOptions {
  /// Symbol prefix: `<prefix>_eval`, `<prefix>_ibp`, `<prefix>_info`.
  std::string prefix = "gamma_model";
  /// Target CPU; "native" is the host's CPU and features.
  std::string cpu = "native";
  int optLevel = 3;
  /// The model's digest (ir::Graph::sourceDigest), recorded in
  /// gamma_kernel_info::model_digest. An empty one (a graph built in memory)
  /// matches no model: the runtime refuses such a library for any model file.
  std::string modelDigest;
  /// gamma_kernel_info::model_name; unset: the graph's name. The compile
  /// cache sets it empty, so that networks of one shape share their code.
  std::optional<std::string> modelName;
  /// Compiler driver that links the shared library: `<linker> -shared -o OUT OBJ -lm`.
  std::string linker = "cc";
  /// Object files and shared libraries: also write the weights they read
  /// to support::weightsPathFor(path). Off for the compile cache, whose
  /// libraries are bound to the weights of the graph they are loaded for.
  bool writeWeights = true;
  /// The kernel plan of the graph being compiled, when the caller has
  /// already built it (buildKernelPlan(g) of the same `g`): building it again
  /// repeats every derived weight array, seconds on a GB of weights.
  std::shared_ptr<const KernelPlan> plan;
};

enum class EmitKind { LlvmIr, Assembly, Object, Header, SharedLibrary };

/// Writes `kind` for `g` to `path` (via a temporary file and rename); an
/// object file or shared library also gets its `.weights` file.
Status emitToFile(const ir::Graph &g, EmitKind kind, const std::string &path,
                  const CodegenOptions &opts = {});

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename; FileWrite error on failure (no partial file is left).
Status writeFileAtomically(const std::string &path, std::string_view bytes);

/// Returns textual output (LlvmIr, Assembly or Header).
Expected<std::string> emitToString(const ir::Graph &g, EmitKind kind,
                                   const CodegenOptions &opts = {});

/// The BLAKE3 digest (hex) of the unoptimised kernel module that a shared
/// library of `g` is compiled from under `opts`, with no model digest and no
/// weights digest in it. The module reads every weight through the weight
/// table, so two graphs that differ only in weight values have the same code
/// digest (the 45 ACAS Xu networks share one), and equal digests under equal
/// options mean identical code: the compile cache keys on it
/// (tools/gamma/Cache.h).
Expected<std::string> codeDigest(const ir::Graph &g, const CodegenOptions &opts = {});

/// Kernels compiled in process by ORC LLJIT. Lives as long as the object.
class JitVerifier {
public:
  static Expected<std::unique_ptr<JitVerifier>> compile(const ir::Graph &g,
                                                        const CodegenOptions &opts = {});
  ~JitVerifier();
  const gamma_kernel_info *info() const;
  /// The weight table every kernel takes first: pointers into the graph's
  /// weights (kept alive by this object) and the arrays the plan computed.
  const float *const *weights() const;

private:
  JitVerifier();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace gma::codegen

//===- codegen/Jit.cpp - Kernels compiled in process (ORC LLJIT) ----------===//
//
// The same objects as the AOT path's shared library (compileObjects: the
// optimised module in parts, compiled on several cores), loaded by an LLJIT
// for the same CPU and features. Symbols the kernels import
// (libm's exp/expf, memcpy) resolve against the current process. The
// descriptor is found through `<prefix>_info` and lives as long as the JIT;
// the weight table points into the graph's weights (the mapped ONNX data
// where the passes kept them) and the arrays the plan computed.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"

#include "codegen/ModuleBuilder.h"
#include "codegen/ScalarRelaxObject.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>

#include <fmt/format.h>

namespace gma::codegen {

struct JitVerifier::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  const gamma_kernel_info *info = nullptr;
  std::vector<ConstData> arrays; ///< Keeps the table's arrays alive.
  std::vector<const float *> table;
};

JitVerifier::JitVerifier() : impl_(std::make_unique<Impl>()) {}
JitVerifier::~JitVerifier() = default;
const gamma_kernel_info *JitVerifier::info() const { return impl_->info; }
const float *const *JitVerifier::weights() const { return impl_->table.data(); }

namespace {

Error jitError(const std::string &what, llvm::Error err) {
  return Error(ErrorCode::JitFailed, what + ": " + llvm::toString(std::move(err)));
}

} // namespace

Expected<std::unique_ptr<JitVerifier>> JitVerifier::compile(const ir::Graph &g,
                                                            const CodegenOptions &opts) {
  auto bm = compileObjects(g, opts, /*libraryEntry=*/false);
  if (!bm)
    return bm.takeError();

  llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(bm->target.triple)};
  jtmb.setCPU(bm->target.cpu);
  llvm::SmallVector<llvm::StringRef, 64> features;
  llvm::StringRef(bm->target.features).split(features, ',', -1, false);
  jtmb.addFeatures(std::vector<std::string>(features.begin(), features.end()));

  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create();
  if (!jit)
    return jitError("cannot create the JIT", jit.takeError());
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen)
    return jitError("cannot search the current process for symbols", gen.takeError());
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  // The scalar relaxations the crown kernels call (abi/ScalarRelax.h).
  if (llvm::Error err = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBuffer(
          scalarRelaxObject(), "ScalarRelax.o", /*RequiresNullTerminator=*/false)))
    return jitError("cannot add the scalar relaxations to the JIT", std::move(err));

  // The kernels, compiled on several cores (codegen/SplitCompile.cpp).
  for (size_t i = 0; i < bm->objects.size(); ++i)
    if (llvm::Error err = (*jit)->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(
            bm->objects[i], "kernels." + std::to_string(i) + ".o")))
      return jitError("cannot add the kernels to the JIT", std::move(err));
  std::string infoName = opts.prefix + "_info";
  auto sym = (*jit)->lookup(infoName);
  if (!sym)
    return jitError(fmt::format("cannot compile '{}'", infoName), sym.takeError());

  std::unique_ptr<JitVerifier> v(new JitVerifier());
  v->impl_->jit = std::move(*jit);
  v->impl_->info = sym->toPtr<gamma_info_fn>()();
  v->impl_->arrays = bm->plan->weights;
  for (const ConstData &c : v->impl_->arrays)
    v->impl_->table.push_back(c.data);
  return v;
}

} // namespace gma::codegen

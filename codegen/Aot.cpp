//===- codegen/Aot.cpp - Ahead-of-time outputs ----------------------------===//
//
// emitToString / emitToFile of codegen/Compiler.h: optimised LLVM IR,
// assembly, an object file, the C header, or a shared library (the object
// linked by the system compiler driver: `cc -shared -o OUT OBJ -lm`).
//
// Object files and libraries get the .weights file their kernels read
// (codegen/WeightsFile.h) beside them. Every file is first written to a
// unique temporary next to its destination and renamed into place only when complete, so a failed or interrupted
// compilation never leaves a partial (or stale-but-plausible) output. Failures
// remove the temporaries and return FileWrite or LinkFailed errors.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compiler.h"

#include "codegen/HeaderWriter.h"
#include "codegen/ModuleBuilder.h"
#include "codegen/ScalarRelaxObject.h"
#include "codegen/WeightsFile.h"
#include "support/Files.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <fmt/format.h>
#include <functional>

namespace gma::codegen {

namespace {

Error fileError(const std::string &path, const std::string &what) {
  Location loc;
  loc.file = path;
  return Error(ErrorCode::FileWrite, what, std::move(loc));
}

/// Removes a temporary file when it goes out of scope unless released.
class TempFile {
public:
  TempFile() = default;
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  ~TempFile() {
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
  /// Creates `<dest>.tmp-XXXXXX<suffix>` and opens it; fd < 0 on failure.
  std::error_code create(const std::string &dest, const char *suffix, int &fd) {
    llvm::SmallString<256> p;
    std::error_code ec = llvm::sys::fs::createUniqueFile(dest + ".tmp-%%%%%%" + suffix, fd, p);
    if (!ec)
      path = std::string(p);
    return ec;
  }
  /// Renames onto `dest`; on success the temporary no longer exists.
  std::error_code commit(const std::string &dest) {
    std::error_code ec = llvm::sys::fs::rename(path, dest);
    if (!ec)
      path.clear();
    return ec;
  }
  std::string path;
};

/// Writes what `write` streams into a fresh temporary beside `dest` (not yet
/// renamed).
Status writeTemp(TempFile &tmp, const std::string &dest,
                 const std::function<void(llvm::raw_ostream &)> &write, const char *suffix) {
  int fd = -1;
  if (std::error_code ec = tmp.create(dest, suffix, fd))
    return fileError(dest, "cannot create a temporary file next to it: " + ec.message());
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  write(os);
  os.close();
  if (os.has_error()) {
    std::string msg = os.error().message();
    os.clear_error();
    return fileError(dest, "write failed: " + msg);
  }
  return Status::ok();
}

Status writeTemp(TempFile &tmp, const std::string &dest, llvm::StringRef bytes,
                 const char *suffix) {
  return writeTemp(tmp, dest, [&](llvm::raw_ostream &os) { os << bytes; }, suffix);
}

/// What `write` streams, to `dest` through a temporary and a rename.
Status writeStreamAtomically(const std::string &dest,
                             const std::function<void(llvm::raw_ostream &)> &write) {
  TempFile tmp;
  if (Status st = writeTemp(tmp, dest, write, ""); !st)
    return st;
  if (std::error_code ec = tmp.commit(dest))
    return fileError(dest, "cannot rename the temporary into place: " + ec.message());
  return Status::ok();
}

} // namespace

Status writeFileAtomically(const std::string &dest, std::string_view bytes) {
  return writeStreamAtomically(
      dest, [&](llvm::raw_ostream &os) { os << llvm::StringRef(bytes.data(), bytes.size()); });
}

namespace {

/// Machine code for the module, as assembly text or an ELF object.
Expected<std::string> emitMachineCode(BuiltModule &bm, llvm::CodeGenFileType type) {
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (bm.tm->addPassesToEmitFile(pm, os, nullptr, type))
    return Error(ErrorCode::CodegenFailed, "the target cannot emit this file type");
  pm.run(*bm.module);
  return std::string(buffer.str());
}

Expected<std::string> moduleText(BuiltModule &bm) {
  std::string text;
  llvm::raw_string_ostream os(text);
  bm.module->print(os, nullptr);
  return os.str();
}

Status linkSharedLibrary(const std::vector<std::string> &objects, const std::string &dest,
                         const CodegenOptions &opts) {
  std::vector<TempFile> objs(objects.size());
  TempFile relax, so, log;
  for (size_t i = 0; i < objects.size(); ++i)
    if (Status st = writeTemp(objs[i], dest, objects[i], ".o"); !st)
      return st;
  // The scalar relaxations the crown kernels call (abi/ScalarRelax.h).
  if (Status st = writeTemp(relax, dest, scalarRelaxObject(), ".relax.o"); !st)
    return st;
  // The linker writes the library itself; reserve a unique name for it.
  if (Status st = writeTemp(so, dest, "", ".so"); !st)
    return st;
  if (Status st = writeTemp(log, dest, "", ".log"); !st)
    return st;

  auto linkError = [&](const std::string &msg) {
    Location loc;
    loc.file = dest;
    return Error(ErrorCode::LinkFailed, msg, std::move(loc));
  };
  std::string program = opts.linker;
  if (program.find('/') == std::string::npos) {
    auto found = llvm::sys::findProgramByName(program);
    if (!found)
      return linkError(fmt::format("linker driver '{}' not found in PATH", program));
    program = *found;
  }
  llvm::SmallVector<llvm::StringRef, 8> args = {program, "-shared", "-o", so.path};
  for (const TempFile &o : objs)
    args.push_back(o.path);
  args.append({relax.path, "-lm"});
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(log.path),
                                                llvm::StringRef(log.path)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(program, args, std::nullopt, redirects, 0, 0, &execError);
  if (rc != 0) {
    std::string output;
    if (auto buf = llvm::MemoryBuffer::getFile(log.path))
      output = (*buf)->getBuffer().str();
    while (!output.empty() && (output.back() == '\n' || output.back() == ' '))
      output.pop_back();
    std::string cmd = llvm::join(args, " ");
    return linkError(fmt::format("'{}' failed ({}){}{}", cmd,
                                 rc < 0 ? execError : "exit code " + std::to_string(rc),
                                 output.empty() ? "" : ":\n", output));
  }
  if (std::error_code ec = so.commit(dest))
    return fileError(dest, "cannot rename the linked library into place: " + ec.message());
  return Status::ok();
}

} // namespace

Expected<std::string> emitToString(const ir::Graph &g, EmitKind kind, const CodegenOptions &opts) {
  if (kind == EmitKind::Header) {
    auto plan = buildKernelPlan(g);
    if (!plan)
      return plan.takeError();
    return writeHeader(*plan, opts.prefix, opts.modelDigest);
  }
  if (kind == EmitKind::SharedLibrary)
    return Error(ErrorCode::InvalidArgument, "a shared library can only be written to a file");
  llvm::LLVMContext ctx;
  auto bm = buildOptimizedModule(g, opts, ctx, /*libraryEntry=*/true);
  if (!bm)
    return bm.takeError();
  switch (kind) {
  case EmitKind::LlvmIr:
    return moduleText(*bm);
  case EmitKind::Assembly:
    return emitMachineCode(*bm, llvm::CodeGenFileType::AssemblyFile);
  default:
    return emitMachineCode(*bm, llvm::CodeGenFileType::ObjectFile);
  }
}

Status emitToFile(const ir::Graph &g, EmitKind kind, const std::string &path,
                  const CodegenOptions &opts) {
  if (kind != EmitKind::SharedLibrary && kind != EmitKind::Object) {
    auto text = emitToString(g, kind, opts);
    if (!text)
      return text.takeError();
    return writeFileAtomically(path, *text);
  }
  // Machine code, and the weights it reads beside it (ABI 5). The weights
  // go first: a library is never in place without its file, and a failed
  // library removes the weights it was written with.
  // A shared library from several objects compiled at once (SplitCompile);
  // an object file is one module.
  std::shared_ptr<const KernelPlan> plan;
  std::vector<std::string> objects;
  if (kind == EmitKind::SharedLibrary) {
    auto compiled = compileObjects(g, opts, /*libraryEntry=*/true);
    if (!compiled)
      return compiled.takeError();
    plan = compiled->plan;
    objects = std::move(compiled->objects);
  } else {
    llvm::LLVMContext ctx;
    auto bm = buildOptimizedModule(g, opts, ctx, /*libraryEntry=*/true);
    if (!bm)
      return bm.takeError();
    auto obj = emitMachineCode(*bm, llvm::CodeGenFileType::ObjectFile);
    if (!obj)
      return obj.takeError();
    plan = bm->plan;
    objects.push_back(std::move(*obj));
  }
  std::string weights = support::weightsPathFor(path);
  if (opts.writeWeights) {
    Status st = writeStreamAtomically(weights, [&](llvm::raw_ostream &os) {
      forEachWeightsFileChunk(*plan, layoutWeightsFile(*plan),
                              [&](const void *p, size_t n) {
                                os.write(static_cast<const char *>(p), n);
                              });
    });
    if (!st)
      return st;
  }
  Status st = kind == EmitKind::Object ? writeFileAtomically(path, objects.front())
                                       : linkSharedLibrary(objects, path, opts);
  if (!st && opts.writeWeights)
    llvm::sys::fs::remove(weights);
  return st;
}

} // namespace gma::codegen

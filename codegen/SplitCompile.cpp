//===- codegen/SplitCompile.cpp - One module, compiled on several cores ---===//
//
// compileObjects (codegen/ModuleBuilder.h) cuts the kernel module into
// kCompileParts parts by function and optimises and compiles each part to an
// object file on a thread of its own, in a context of its own:
//
//   1. the whole module: emit, verify, parameteriseWeights, bindWeightTable
//      and MergeFunctions (which needs every layer function at once);
//   2. every function definition goes to one part: callers first, each
//      function in its first caller's part unless that part is full (the
//      parts balanced by instruction count), so a kernel's call tree stays
//      together and few calls cross parts;
//   3. an internal function called from another part becomes a hidden
//      external symbol (direct calls, not exported from a shared library);
//      internal globals (constants, the FP-environment probes) are copied
//      into each part that reads them; external ones live in part 0;
//   4. each part is written as bitcode, read back into its own LLVMContext
//      on its thread, optimised by optimizeModule and compiled to an object.
//
// The split does not depend on the number of cores (only how many parts run
// at once does), so a model compiles to the same code on every machine. Every
// function is optimised as in the whole module except across the calls that
// cross parts (those callees are not specialised to their callers'
// arguments); the kernels' layer functions are noinline anyway
// (codegen/ShareKernels.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/ModuleBuilder.h"

#include "codegen/ShareKernels.h"
#include "codegen/StepRecord.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <thread>

namespace gma::codegen {

using llvm::BasicBlock;
using llvm::dyn_cast;
using llvm::Function;
using llvm::GlobalValue;
using llvm::GlobalVariable;
using llvm::Instruction;
using llvm::LLVMContext;
using llvm::Module;
using llvm::User;
using llvm::Value;

namespace {

int64_t instructionCount(const Function &f) {
  int64_t n = 0;
  for (const BasicBlock &bb : f)
    n += static_cast<int64_t>(bb.size());
  return n;
}

/// Defined functions called (or referenced) by `f`, in instruction order.
std::vector<Function *> callees(Function &f) {
  std::vector<Function *> out;
  for (Instruction &inst : llvm::instructions(f))
    for (Value *op : inst.operands())
      if (auto *g = dyn_cast<Function>(op->stripPointerCasts()); g && !g->isDeclaration())
        if (std::find(out.begin(), out.end(), g) == out.end())
          out.push_back(g);
  return out;
}

/// Part of every defined function (step 2 of the file comment).
std::map<const Function *, unsigned> assignParts(Module &m, unsigned parts) {
  std::vector<Function *> order;
  std::map<const Function *, const Function *> firstCaller;
  std::map<const Function *, bool> seen;
  std::function<void(Function *)> visit = [&](Function *f) {
    if (seen[f])
      return;
    seen[f] = true;
    order.push_back(f);
    for (Function *g : callees(*f)) {
      if (!firstCaller.count(g))
        firstCaller[g] = f;
      visit(g);
    }
  };
  for (Function &f : m)
    if (!f.isDeclaration() && !f.hasLocalLinkage())
      visit(&f);
  for (Function &f : m)
    if (!f.isDeclaration())
      visit(&f);

  std::vector<int64_t> size;
  int64_t total = 0;
  for (Function *f : order)
    total += size.emplace_back(instructionCount(*f));
  const int64_t budget = (total + parts - 1) / parts + total / 20;
  std::vector<int64_t> load(parts, 0);
  std::map<const Function *, unsigned> part;
  for (size_t i = 0; i < order.size(); ++i) {
    Function *f = order[i];
    const int64_t w = size[i];
    unsigned p = static_cast<unsigned>(std::min_element(load.begin(), load.end()) - load.begin());
    if (auto it = firstCaller.find(f); it != firstCaller.end()) {
      unsigned q = part.at(it->second);
      if (load[q] + w <= budget)
        p = q;
    }
    part[f] = p;
    load[p] += w;
  }
  return part;
}

std::string writeBitcode(const Module &m) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::WriteBitcodeToFile(m, os);
  return os.str();
}

/// Steps 3 and the cloning of step 4: the parts as bitcode.
std::vector<std::string> splitModule(Module &m, unsigned parts) {
  auto part = assignParts(m, parts);
  for (Function &f : m) {
    if (f.isDeclaration() || !f.hasLocalLinkage())
      continue;
    unsigned home = part.at(&f);
    bool crossed = false;
    for (User *u : f.users()) {
      auto *inst = dyn_cast<Instruction>(u);
      if (!inst || part.at(inst->getFunction()) != home)
        crossed = true;
    }
    if (crossed) {
      f.setLinkage(GlobalValue::ExternalLinkage);
      f.setVisibility(GlobalValue::HiddenVisibility);
      f.setDSOLocal(true);
    }
  }
  std::vector<std::string> out;
  for (unsigned p = 0; p < parts; ++p) {
    llvm::ValueToValueMapTy vmap;
    std::unique_ptr<Module> clone = llvm::CloneModule(m, vmap, [&](const GlobalValue *gv) {
      if (auto *f = dyn_cast<Function>(gv))
        return part.at(f) == p;
      return gv->hasLocalLinkage() || p == 0;
    });
    // Copies this part does not read: the optimiser would drop them too,
    // after spending time on them.
    for (bool changed = true; changed;) {
      changed = false;
      for (GlobalVariable &g : llvm::make_early_inc_range(clone->globals()))
        if (g.hasLocalLinkage() && g.use_empty()) {
          g.eraseFromParent();
          changed = true;
        }
      for (Function &f : llvm::make_early_inc_range(*clone))
        if (f.isDeclaration() && f.use_empty() && !f.isIntrinsic()) {
          f.eraseFromParent();
          changed = true;
        }
    }
    out.push_back(writeBitcode(*clone));
  }
  return out;
}

Expected<std::string> compilePart(const std::string &bitcode, const TargetDesc &target,
                                  int optLevel, bool slp) {
  LLVMContext ctx;
  auto m = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, "part"), ctx);
  if (!m)
    return Error(ErrorCode::CodegenFailed,
                 "internal error: a kernel module part does not read back: " +
                     llvm::toString(m.takeError()));
  auto tm = createTargetMachine(target, optLevel);
  if (!tm)
    return tm.takeError();
  optimizeModule(**m, **tm, optLevel, slp);
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if ((*tm)->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return Error(ErrorCode::CodegenFailed, "the target cannot emit object files");
  pm.run(**m);
  return std::string(buffer.str());
}

} // namespace

Expected<CompiledObjects> compileObjects(const ir::Graph &g, const CodegenOptions &opts,
                                         bool libraryEntry) {
  llvm::LLVMContext ctx;
  auto built = buildPreparedModule(g, opts, ctx, libraryEntry);
  if (!built)
    return built.takeError();
  CompiledObjects out;
  out.plan = built->plan;
  out.target = built->target;
  std::vector<std::string> parts = splitModule(*built->module, kCompileParts);
  built->module.reset();

  std::vector<std::optional<Expected<std::string>>> results(parts.size());
  // LLVM's developer options (GAMMA_LLVM_ARGS: -time-passes, -print-after)
  // keep global state: one part at a time then.
  const char *llvmArgs = std::getenv("GAMMA_LLVM_ARGS");
  unsigned threads = llvmArgs && *llvmArgs ? 1 : std::max(1u, std::thread::hardware_concurrency());
  const bool slp = wantsSlpVectorizer(*out.plan);
  auto run = [&](size_t i) {
    results[i].emplace(compilePart(parts[i], out.target, opts.optLevel, slp));
  };
  for (size_t first = 0; first < parts.size(); first += threads) {
    std::vector<std::thread> pool;
    size_t last = std::min(parts.size(), first + threads);
    for (size_t i = first + 1; i < last; ++i)
      pool.emplace_back(run, i);
    run(first);
    for (std::thread &t : pool)
      t.join();
  }
  for (auto &r : results) {
    if (!*r)
      return r->takeError();
    out.objects.push_back(std::move(**r));
  }
  return out;
}

} // namespace gma::codegen

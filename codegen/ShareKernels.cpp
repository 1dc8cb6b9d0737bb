//===- codegen/ShareKernels.cpp - One function per layer shape ------------===//
//
// See ShareKernels.h. For each candidate function F (local linkage, defined,
// called directly everywhere):
//   1. constant expressions over constant globals inside F become
//      instructions, so every use of a global in F is an instruction operand;
//   2. the globals F reads, in order of first use, become new trailing
//      parameters of a copy NF that receives F's body;
//   3. every call of F becomes a call of NF that passes the globals.
// A global that F reads through a callee is passed to that callee by F's own
// (rewritten) call, so the walk goes callees first.
//
//===----------------------------------------------------------------------===//
#include "codegen/ShareKernels.h"

#include <llvm/ADT/SetVector.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/ReplaceConstant.h>

#include <map>
#include <utility>
#include <vector>

namespace gma::codegen {

using namespace llvm;

namespace {

bool isWeight(const Value *v) {
  auto *gv = dyn_cast<GlobalVariable>(v);
  return gv && gv->getMetadata(kWeightMetadata) != nullptr;
}

uint64_t weightBytes(const GlobalVariable *gv) {
  return gv->getParent()->getDataLayout().getTypeAllocSize(gv->getValueType());
}

/// Whether every use of F is a direct call of it.
bool onlyCalledDirectly(Function &f) {
  for (const Use &u : f.uses()) {
    auto *call = dyn_cast<CallInst>(u.getUser());
    if (!call || call->getCalledOperand() != &f)
      return false;
  }
  return !f.use_empty();
}

bool rewrite(Function &f) {
  if (!f.hasLocalLinkage() || f.isDeclaration() || f.isVarArg() || !onlyCalledDirectly(f))
    return false;
  // 1. (Done once for the module by parameteriseWeights.)
  // 2. The weights F reads, in order of first use.
  SetVector<GlobalVariable *> used;
  for (Instruction &inst : instructions(f))
    for (Value *op : inst.operands())
      if (isWeight(op))
        used.insert(cast<GlobalVariable>(op));
  if (used.empty())
    return false;

  FunctionType *oldTy = f.getFunctionType();
  std::vector<Type *> params(oldTy->param_begin(), oldTy->param_end());
  PointerType *ptr = PointerType::getUnqual(f.getContext());
  params.insert(params.end(), used.size(), ptr);
  FunctionType *newTy = FunctionType::get(oldTy->getReturnType(), params, false);
  Function *nf = Function::Create(newTy, f.getLinkage(), f.getAddressSpace(), "", f.getParent());
  nf->copyAttributesFrom(&f);
  unsigned first = oldTy->getNumParams();
  for (unsigned i = 0; i < used.size(); ++i) {
    unsigned a = first + i;
    nf->addParamAttr(a, Attribute::NoAlias);
    nf->addParamAttr(a, Attribute::NoCapture);
    nf->addParamAttr(a, Attribute::ReadOnly);
    nf->addParamAttr(a, Attribute::NonNull);
    nf->addParamAttr(a, Attribute::NoUndef);
    if (MaybeAlign al = used[i]->getAlign())
      nf->addParamAttr(a, Attribute::getWithAlignment(f.getContext(), *al));
    nf->addParamAttr(a, Attribute::getWithDereferenceableBytes(f.getContext(),
                                                               weightBytes(used[i])));
  }
  nf->splice(nf->begin(), &f);
  for (unsigned i = 0; i < first; ++i) {
    f.getArg(i)->replaceAllUsesWith(nf->getArg(i));
    nf->getArg(i)->takeName(f.getArg(i));
  }
  for (unsigned i = 0; i < used.size(); ++i) {
    Argument *arg = nf->getArg(first + i);
    arg->setName("w");
    used[i]->replaceUsesWithIf(arg, [nf](Use &u) {
      auto *inst = dyn_cast<Instruction>(u.getUser());
      return inst && inst->getFunction() == nf;
    });
  }

  // 3. The callers pass the weights.
  std::vector<CallInst *> calls;
  for (User *u : f.users())
    calls.push_back(cast<CallInst>(u));
  for (CallInst *call : calls) {
    std::vector<Value *> args(call->arg_begin(), call->arg_end());
    args.insert(args.end(), used.begin(), used.end());
    CallInst *nc = CallInst::Create(nf, args, "", call->getIterator());
    nc->setCallingConv(call->getCallingConv());
    nc->setAttributes(call->getAttributes());
    nc->setTailCallKind(call->getTailCallKind());
    nc->setDebugLoc(call->getDebugLoc());
    if (!call->getType()->isVoidTy())
      nc->takeName(call);
    call->replaceAllUsesWith(nc);
    call->eraseFromParent();
  }
  nf->takeName(&f);
  f.eraseFromParent();
  return true;
}

/// Functions in an order where callees come before their callers.
void postOrder(Function &f, SmallPtrSetImpl<Function *> &seen, std::vector<Function *> &out) {
  if (!seen.insert(&f).second)
    return;
  for (Instruction &inst : instructions(f))
    if (auto *call = dyn_cast<CallInst>(&inst))
      if (Function *callee = call->getCalledFunction(); callee && !callee->isDeclaration())
        postOrder(*callee, seen, out);
  out.push_back(&f);
}

/// Whether F branches back to a block that comes earlier in its layout: the
/// emitters lay every loop out header first, so this finds their loops (and
/// at worst marks a loop-free function noinline, which is harmless).
bool hasLoop(Function &f) {
  SmallPtrSet<const BasicBlock *, 32> seen;
  for (BasicBlock &bb : f) {
    seen.insert(&bb);
    for (const BasicBlock *succ : successors(&bb))
      if (seen.contains(succ))
        return true;
  }
  return false;
}

} // namespace

int parameteriseWeights(Module &m) {
  // 1. Constant expressions that use weights become instructions, in every
  // function at once.
  std::vector<Constant *> weights;
  for (GlobalVariable &gv : m.globals())
    if (isWeight(&gv))
      weights.push_back(&gv);
  convertUsersOfConstantsToInstructions(weights);
  SmallPtrSet<Function *, 32> seen;
  std::vector<Function *> order;
  for (Function &f : m)
    if (!f.isDeclaration())
      postOrder(f, seen, order);
  int rewritten = 0;
  for (Function *f : order)
    rewritten += rewrite(*f) ? 1 : 0;
  // A layer function that loops does thousands of operations per call: a
  // call costs nothing next to it, while inlining it back into each caller
  // would undo the sharing (ACAS Xu's crown kernel grew to 11k instructions).
  for (Function &f : m)
    if (f.hasLocalLinkage() && !f.isDeclaration() && hasLoop(f))
      f.addFnAttr(Attribute::NoInline);
  return rewritten;
}

void bindWeightTable(Module &m) {
  std::vector<GlobalVariable *> weights;
  for (GlobalVariable &gv : m.globals())
    if (isWeight(&gv))
      weights.push_back(&gv);
  if (weights.empty())
    return;
  // parameteriseWeights made every constant-expression use an instruction;
  // any other use is refused below.
  LLVMContext &ctx = m.getContext();
  Type *ptr = PointerType::getUnqual(ctx), *i64 = Type::getInt64Ty(ctx);
  MDNode *empty = MDNode::get(ctx, {});
  auto i64Node = [&](uint64_t v) {
    return MDNode::get(ctx, ConstantAsMetadata::get(ConstantInt::get(i64, v)));
  };
  // One load per use, just before it: loads hoisted to the kernel's entry
  // would all be live across the whole kernel, and on a 2,000-layer chain
  // the register allocator's time on that entry grew quadratically. The
  // loads are invariant, so the optimiser may still merge or move them.
  for (GlobalVariable *gv : weights) {
    auto *md = cast<ConstantAsMetadata>(gv->getMetadata(kWeightMetadata)->getOperand(0));
    uint64_t index = cast<ConstantInt>(md->getValue())->getZExtValue();
    std::vector<Use *> uses;
    for (Use &u : gv->uses())
      uses.push_back(&u);
    for (Use *u : uses) {
      auto *inst = dyn_cast<Instruction>(u->getUser());
      Function *f = inst ? inst->getFunction() : nullptr;
      if (!f || f->hasLocalLinkage() || f->arg_empty() || f->getArg(0)->getName() != "weights" ||
          isa<PHINode>(inst))
        report_fatal_error(Twine("weight '") + gv->getName() +
                           "' is read outside the kernels' weight table");
      IRBuilder<> b(inst);
      Value *slot = b.CreateConstInBoundsGEP1_64(ptr, f->getArg(0), index);
      LoadInst *ld = b.CreateLoad(ptr, slot, gv->getName());
      ld->setMetadata(LLVMContext::MD_invariant_load, empty);
      ld->setMetadata(LLVMContext::MD_nonnull, empty);
      ld->setMetadata(LLVMContext::MD_align, i64Node(alignof(float)));
      ld->setMetadata(LLVMContext::MD_dereferenceable, i64Node(weightBytes(gv)));
      u->set(ld);
    }
    gv->eraseFromParent();
  }
}

} // namespace gma::codegen

//===- codegen/IrHelpers.cpp - Loops and outward rounding in LLVM IR ------===//
//
// See IrHelpers.h. The rounding functions mirror ir/Rounding.h operation for
// operation (the threshold is `d -/+ (|d|·slack)·2^-53`, evaluated in the same
// order), so kernels and the interpreter round identically.
//
//===----------------------------------------------------------------------===//
#include "codegen/IrHelpers.h"

#include <llvm/IR/Intrinsics.h>

#include <limits>

namespace gma::codegen {

using namespace llvm;

namespace {
/// Loops emitted so far on this thread: tells emitLoop whether a body held one.
thread_local uint64_t loopsEmitted = 0;
} // namespace

void emitLoop(IRBuilder<> &b, Value *begin, Value *end, int64_t step, const char *name,
              const LoopBody &body, LoopHint hint) {
  const uint64_t before = ++loopsEmitted;
  Function *f = b.GetInsertBlock()->getParent();
  LLVMContext &ctx = b.getContext();
  BasicBlock *pre = b.GetInsertBlock();
  BasicBlock *header = BasicBlock::Create(ctx, Twine(name) + ".header", f);
  BasicBlock *bodyBb = BasicBlock::Create(ctx, Twine(name) + ".body", f);
  BasicBlock *exit = BasicBlock::Create(ctx, Twine(name) + ".exit", f);
  b.CreateBr(header);

  b.SetInsertPoint(header);
  PHINode *iv = b.CreatePHI(b.getInt64Ty(), 2, name);
  iv->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(iv, end), bodyBb, exit);

  b.SetInsertPoint(bodyBb);
  body(b, iv);
  Value *next = b.CreateAdd(iv, b.getInt64(step), Twine(name) + ".next", /*HasNUW=*/true,
                            /*HasNSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  BranchInst *latch = b.CreateBr(header);
  if ((hint == LoopHint::Auto && loopsEmitted != before) || hint == LoopHint::Scalar) {
    // A loop ID is a distinct node whose first operand is itself.
    SmallVector<Metadata *, 3> ops = {nullptr,
                                      MDNode::get(ctx, MDString::get(ctx, "llvm.loop.unroll.disable"))};
    if (hint == LoopHint::Scalar)
      ops.push_back(MDNode::get(
          ctx, {MDString::get(ctx, "llvm.loop.vectorize.enable"),
                ConstantAsMetadata::get(ConstantInt::getFalse(ctx))}));
    MDNode *id = MDNode::getDistinct(ctx, ops);
    id->replaceOperandWith(0, id);
    latch->setMetadata(LLVMContext::MD_loop, id);
  }

  b.SetInsertPoint(exit);
}

void emitLoop(IRBuilder<> &b, int64_t end, const char *name, const LoopBody &body,
              LoopHint hint) {
  emitLoop(b, b.getInt64(0), b.getInt64(end), 1, name, body, hint);
}

namespace {

/// Shared body of roundDown (down = true) and roundUp.
Value *roundOutward(IRBuilder<> &b, Value *d, double slack, bool down) {
  Type *f32 = b.getFloatTy();
  Type *i32 = b.getInt32Ty();
  Value *f = b.CreateFPTrunc(d, f32);
  Value *fe = b.CreateFPExt(f, b.getDoubleTy());
  Value *absD = b.CreateUnaryIntrinsic(Intrinsic::fabs, d);
  Value *tol = b.CreateFMul(b.CreateFMul(absD, ConstantFP::get(b.getDoubleTy(), slack)),
                            ConstantFP::get(b.getDoubleTy(), 0x1p-53));
  // Down: step if (double)f > d - tol. Up: step if (double)f < d + tol.
  Value *needStep = down ? b.CreateFCmpOGT(fe, b.CreateFSub(d, tol))
                         : b.CreateFCmpOLT(fe, b.CreateFAdd(d, tol));
  // One f32 ulp towards -inf (down) or +inf (up) through the integer bits:
  // away from zero on the far side, towards zero on the near side, and from
  // +-0 to the smallest subnormal of the right sign.
  Value *bits = b.CreateBitCast(f, i32);
  Value *zero = ConstantFP::get(f32, 0.0);
  Value *awayFromZero = down ? b.CreateFCmpOLT(f, zero) : b.CreateFCmpOGT(f, zero);
  Value *stepped = b.CreateSelect(awayFromZero, b.CreateAdd(bits, b.getInt32(1)),
                                  b.CreateSub(bits, b.getInt32(1)));
  stepped = b.CreateSelect(b.CreateFCmpOEQ(f, zero),
                           b.getInt32(down ? 0x80000001u : 0x00000001u), stepped);
  Value *steppedF = b.CreateBitCast(stepped, f32);
  float inf = std::numeric_limits<float>::infinity();
  Value *farInf = ConstantFP::get(f32, down ? -inf : inf);
  // Never step off the infinity on the rounding side (that would make a NaN).
  Value *atFarInf = b.CreateFCmpOEQ(f, farInf);
  Value *r = b.CreateSelect(b.CreateAnd(needStep, b.CreateNot(atFarInf)), steppedF, f);
  return b.CreateSelect(b.CreateFCmpUNO(d, d), farInf, r);
}

} // namespace

Value *roundDown(IRBuilder<> &b, Value *d, double slack) { return roundOutward(b, d, slack, true); }
Value *roundUp(IRBuilder<> &b, Value *d, double slack) { return roundOutward(b, d, slack, false); }

Value *floatPtr(IRBuilder<> &b, Value *base, Value *index) {
  return b.CreateInBoundsGEP(b.getFloatTy(), base, index);
}

Value *loadF32(IRBuilder<> &b, Value *base, Value *index) {
  return b.CreateAlignedLoad(b.getFloatTy(), floatPtr(b, base, index), Align(4));
}

void storeF32(IRBuilder<> &b, Value *v, Value *base, Value *index) {
  b.CreateAlignedStore(v, floatPtr(b, base, index), Align(4));
}

Value *toDouble(IRBuilder<> &b, Value *f) { return b.CreateFPExt(f, b.getDoubleTy()); }

Value *i64(IRBuilder<> &b, int64_t v) { return b.getInt64(v); }

Value *loadIndex(IRBuilder<> &b, Value *table, int64_t at, Value *j) {
  Value *p = b.CreateInBoundsGEP(b.getInt32Ty(), table, b.CreateAdd(b.getInt64(at), j));
  return b.CreateSExt(b.CreateAlignedLoad(b.getInt32Ty(), p, Align(4)), b.getInt64Ty());
}

} // namespace gma::codegen

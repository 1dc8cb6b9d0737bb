//===- codegen/ConvEmitter.cpp - Conv step functions (eval and ibp) -------===//
//
// The conv record's eval and ibp step functions, (x, y, B) and (xlo, xhi,
// ylo, yhi, B). One loop nest, never densified: per sample and output
// element, the taps run over the input channels of its group and the kernel
// offsets whose input position is inside the input; the range of each kernel
// offset is computed from the output position, so no tap is tested and no
// padding is read. The order of the taps (channel, then kernel offsets
// lexicographically) is ir/ops/Conv.cpp's, so that the kernels compute what
// the interpreter computes:
//   eval  acc = Σ x·W in f32, one rounding per product and per add, then
//         y = acc + b (bit-identical to the interpreter);
//   ibp   in double, c = Σ W·xc, r = Σ |W|·xr, mag = Σ |W|·(|xc| + xr) over the
//         K taps of that output, then the enclosure of ir/ops/OpSupport.h's
//         linearEnclosure: [c - r + b - margin, c + r + b + margin] rounded
//         outward, margin = (K + 4)·2^-53·(mag + |b|) (docs/soundness.md).
// The loops are per output element, so the products do not vectorise across
// outputs: a vectorised eval (output positions innermost) is still to come.
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvLoops.h"
#include "codegen/IrHelpers.h"
#include "codegen/KernelEmitter.h"
#include "codegen/StepEmitters.h"
#include "ir/Rounding.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>


namespace gma::codegen {

using namespace llvm;

namespace {

AllocaInst *entryAlloca(IRBuilder<> &b, Type *t, const char *name) {
  Function *f = b.GetInsertBlock()->getParent();
  IRBuilder<> eb(&f->getEntryBlock(), f->getEntryBlock().begin());
  return eb.CreateAlloca(t, nullptr, name);
}

} // namespace

Function *convEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &,
                       const std::string &name) {
  Function *f = createStepFunction(ctx.m, name, 2);
  Value *x = f->getArg(0), *y = f->getArg(1), *batch = f->getArg(2);
  IRBuilder<> b(&f->getEntryBlock());
  GlobalVariable *w = ctx.pool.get(s.weight, s.name + ".w");
  GlobalVariable *bias = ctx.pool.get(s.bias, s.name + ".b");
  AllocaInst *acc = entryAlloca(b, b.getFloatTy(), "acc");
  forEachConvOutput(b, s, batch, [&](IRBuilder<> &b, Value *out, Value *m, const ConvTapLoop &taps,
                                 Value *) {
    b.CreateStore(ConstantFP::get(b.getFloatTy(), 0.0), acc);
    taps(b, [&](IRBuilder<> &b, Value *xi, Value *wi) {
      Value *p = b.CreateFMul(loadF32(b, x, xi), loadF32(b, w, wi));
      b.CreateStore(b.CreateFAdd(b.CreateLoad(b.getFloatTy(), acc), p), acc);
    });
    storeF32(b, b.CreateFAdd(b.CreateLoad(b.getFloatTy(), acc), loadF32(b, bias, m)), y, out);
  });
  b.CreateRetVoid();
  return f;
}

Function *convIbpStep(StepEmitContext &ctx, const Step &s, const StepBuffers &,
                      const std::string &name) {
  Function *f = createStepFunction(ctx.m, name, 4);
  Value *xlo = f->getArg(0), *xhi = f->getArg(1), *ylo = f->getArg(2), *yhi = f->getArg(3);
  Value *batch = f->getArg(4);
  IRBuilder<> b(&f->getEntryBlock());
  Type *f64 = b.getDoubleTy();
  GlobalVariable *w = ctx.pool.get(s.weight, s.name + ".w");
  GlobalVariable *bias = ctx.pool.get(s.bias, s.name + ".b");
  AllocaInst *accC = entryAlloca(b, f64, "acc.c"), *accR = entryAlloca(b, f64, "acc.r");
  AllocaInst *accM = entryAlloca(b, f64, "acc.mag");
  auto cd = [&](double v) { return ConstantFP::get(f64, v); };
  auto fabs = [&](IRBuilder<> &b, Value *v) { return b.CreateUnaryIntrinsic(Intrinsic::fabs, v); };
  auto add = [&](IRBuilder<> &b, AllocaInst *acc, Value *v) {
    b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, acc), v), acc);
  };
  const double charge = ir::chargeOn(ir::RoundingCharge::AffineIbp);
  forEachConvOutput(b, s, batch, [&](IRBuilder<> &b, Value *out, Value *m, const ConvTapLoop &taps,
                                 Value *count) {
    for (AllocaInst *a : {accC, accR, accM})
      b.CreateStore(cd(0.0), a);
    taps(b, [&](IRBuilder<> &b, Value *xi, Value *wi) {
      Value *lo = toDouble(b, loadF32(b, xlo, xi)), *hi = toDouble(b, loadF32(b, xhi, xi));
      Value *wv = toDouble(b, loadF32(b, w, wi));
      Value *xc = b.CreateFMul(cd(0.5), b.CreateFAdd(lo, hi));
      Value *xr = b.CreateFMul(cd(0.5), b.CreateFSub(hi, lo));
      add(b, accC, b.CreateFMul(wv, xc));
      add(b, accR, b.CreateFMul(fabs(b, wv), xr));
      add(b, accM, b.CreateFMul(fabs(b, wv), b.CreateFAdd(fabs(b, xc), xr)));
    });
    Value *c = b.CreateLoad(f64, accC), *r = b.CreateLoad(f64, accR);
    Value *bv = toDouble(b, loadF32(b, bias, m));
    Value *mag = b.CreateFAdd(b.CreateLoad(f64, accM), fabs(b, bv));
    Value *k4 = b.CreateSIToFP(b.CreateAdd(count, b.getInt64(4)), f64);
    Value *margin =
        b.CreateFMul(b.CreateFMul(b.CreateFMul(k4, cd(ir::kUnitRoundoff)), mag), cd(charge));
    Value *l = b.CreateFSub(b.CreateFAdd(b.CreateFSub(c, r), bv), margin);
    Value *h = b.CreateFAdd(b.CreateFAdd(b.CreateFAdd(c, r), bv), margin);
    storeF32(b, roundDown(b, l), ylo, out);
    storeF32(b, roundUp(b, h), yhi, out);
  });
  b.CreateRetVoid();
  return f;
}

} // namespace gma::codegen

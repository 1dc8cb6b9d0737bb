//===- codegen/ConvEmitter.cpp - Conv step functions (eval and ibp) -------===//
//
// The conv record's eval and ibp step functions, (x, y, B) and (xlo, xhi,
// ylo, yhi, B), over codegen/ConvLoops.h's tiles: per output row, tiles of up
// to kTile outputs along the last spatial dim, the taps (channel, kernel
// offsets) outside and the tile's outputs innermost, so that a stride-1 conv
// reads its input contiguously and the loop vectorises. Every output receives
// its taps in ir/ops/Conv.cpp's order, so the kernels compute what the
// interpreter computes:
//   eval  y = 0, y += x·W per tap in f32 (one rounding per product and per
//         add), then y += b: bit-identical to the interpreter;
//   ibp   in double, c = Σ W·xc, r = Σ |W|·xr, mag = Σ |W|·(|xc| + xr) over the
//         K taps of that output, then the enclosure of ir/ops/OpSupport.h's
//         linearEnclosure: [c - r + b - margin, c + r + b + margin] rounded
//         outward, margin = (K + 4)·2^-53·(mag + |b|) (docs/soundness.md).
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

#include <functional>


namespace gma::codegen {

using namespace llvm;

/// Outputs per tile along the last spatial dim (the ibp accumulators are
/// 3 × kTile doubles on the stack).
constexpr int64_t kTile = 128;

Function *convEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &,
                       const std::string &name) {
  Function *f = createStepFunction(ctx.m, name, 2);
  Value *x = f->getArg(0), *y = f->getArg(1), *batch = f->getArg(2);
  IRBuilder<> b(&f->getEntryBlock());
  GlobalVariable *w = ctx.pool.get(s.weight, s.name + ".w");
  GlobalVariable *bias = ctx.pool.get(s.bias, s.name + ".b");
  Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
  ConvTileBody body;
  Value *outBase = nullptr, *m = nullptr;
  // y accumulates in place: y = 0, then y += x·W per tap, then y += b (the
  // interpreter's acc = 0; acc += x·W; y = acc + b).
  body.begin = [&](IRBuilder<> &b, const ConvTile &t) {
    outBase = t.outBase;
    m = t.m;
    convLoop(b, b.getInt64(0), t.width, 1, "zero", [&](IRBuilder<> &b, Value *j) {
      storeF32(b, zero, y, b.CreateAdd(outBase, j));
    });
  };
  body.tap = [&](IRBuilder<> &b, Value *j, Value *xi, Value *wi) {
    Value *o = b.CreateAdd(outBase, j);
    Value *p = b.CreateFMul(loadF32(b, x, xi), loadF32(b, w, wi));
    storeF32(b, b.CreateFAdd(loadF32(b, y, o), p), y, o);
  };
  body.end = [&](IRBuilder<> &b, const ConvTile &t, const auto &) {
    Value *bm = loadF32(b, bias, m);
    convLoop(b, b.getInt64(0), t.width, 1, "bias", [&](IRBuilder<> &b, Value *j) {
      Value *o = b.CreateAdd(outBase, j);
      storeF32(b, b.CreateFAdd(loadF32(b, y, o), bm), y, o);
    });
  };
  forEachConvTile(b, s, batch, kTile, body);
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
  auto array = [&](const char *nm) {
    AllocaInst *a = b.CreateAlloca(f64, b.getInt64(kTile), nm);
    a->setAlignment(Align(64));
    return a;
  };
  AllocaInst *accC = array("acc.c"), *accR = array("acc.r"), *accM = array("acc.mag");
  auto cd = [&](double v) { return ConstantFP::get(f64, v); };
  auto fabs = [&](IRBuilder<> &b, Value *v) { return b.CreateUnaryIntrinsic(Intrinsic::fabs, v); };
  auto at = [&](IRBuilder<> &b, AllocaInst *a, Value *j) { return b.CreateInBoundsGEP(f64, a, j); };
  auto add = [&](IRBuilder<> &b, AllocaInst *a, Value *j, Value *v) {
    Value *p = at(b, a, j);
    b.CreateAlignedStore(b.CreateFAdd(b.CreateAlignedLoad(f64, p, Align(8)), v), p, Align(8));
  };
  auto get = [&](IRBuilder<> &b, AllocaInst *a, Value *j) {
    return b.CreateAlignedLoad(f64, at(b, a, j), Align(8));
  };
  const double charge = ir::chargeOn(ir::RoundingCharge::AffineIbp);
  ConvTileBody body;
  Value *outBase = nullptr, *m = nullptr;
  body.begin = [&](IRBuilder<> &b, const ConvTile &t) {
    outBase = t.outBase;
    m = t.m;
    convLoop(b, b.getInt64(0), t.width, 1, "zero", [&](IRBuilder<> &b, Value *j) {
      for (AllocaInst *a : {accC, accR, accM})
        b.CreateAlignedStore(cd(0.0), at(b, a, j), Align(8));
    });
  };
  body.tap = [&](IRBuilder<> &b, Value *j, Value *xi, Value *wi) {
    Value *lo = toDouble(b, loadF32(b, xlo, xi)), *hi = toDouble(b, loadF32(b, xhi, xi));
    Value *wv = toDouble(b, loadF32(b, w, wi));
    Value *xc = b.CreateFMul(cd(0.5), b.CreateFAdd(lo, hi));
    Value *xr = b.CreateFMul(cd(0.5), b.CreateFSub(hi, lo));
    add(b, accC, j, b.CreateFMul(wv, xc));
    add(b, accR, j, b.CreateFMul(fabs(b, wv), xr));
    add(b, accM, j, b.CreateFMul(fabs(b, wv), b.CreateFAdd(fabs(b, xc), xr)));
  };
  body.end = [&](IRBuilder<> &b, const ConvTile &t, const auto &count) {
    Value *bv = toDouble(b, loadF32(b, bias, m));
    convLoop(b, b.getInt64(0), t.width, 1, "out", [&](IRBuilder<> &b, Value *j) {
      Value *c = get(b, accC, j), *r = get(b, accR, j);
      Value *mag = b.CreateFAdd(get(b, accM, j), fabs(b, bv));
      Value *k4 = b.CreateSIToFP(b.CreateAdd(count(b, j), b.getInt64(4)), f64);
      Value *margin =
          b.CreateFMul(b.CreateFMul(b.CreateFMul(k4, cd(ir::kUnitRoundoff)), mag), cd(charge));
      Value *l = b.CreateFSub(b.CreateFAdd(b.CreateFSub(c, r), bv), margin);
      Value *h = b.CreateFAdd(b.CreateFAdd(b.CreateFAdd(c, r), bv), margin);
      Value *o = b.CreateAdd(outBase, j);
      storeF32(b, roundDown(b, l), ylo, o);
      storeF32(b, roundUp(b, h), yhi, o);
    });
  };
  forEachConvTile(b, s, batch, kTile, body);
  b.CreateRetVoid();
  return f;
}

} // namespace gma::codegen

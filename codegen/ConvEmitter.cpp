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
#include <numeric>

namespace gma::codegen {

using namespace llvm;

namespace {

int64_t product(const ir::Shape &s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>());
}

/// Emits the taps of one output element: visit(b, xIndex, wIndex) for each.
using TapVisitor = std::function<void(IRBuilder<> &, Value *xi, Value *wi)>;
using TapLoop = std::function<void(IRBuilder<> &, const TapVisitor &)>;
/// body(b, outIndex, m, taps, count): one output element of channel m; count
/// is its number of taps (i64).
using OutputBody =
    std::function<void(IRBuilder<> &, Value *out, Value *m, const TapLoop &taps, Value *count)>;

void forEachOutput(IRBuilder<> &b, const Step &s, Value *batch, const OutputBody &body) {
  const ir::ConvGeometry &g = *s.conv;
  const int k = static_cast<int>(g.k);
  const int64_t cpg = g.C / g.group, mpg = g.M / g.group;
  auto c64 = [&](int64_t v) { return b.getInt64(v); };
  emitLoop(b, b.getInt64(0), b.CreateMul(batch, c64(g.N)), 1, "smp",
           [&](IRBuilder<> &b, Value *smp) {
    emitLoop(b, g.M, "m", [&](IRBuilder<> &b, Value *m) {
      Value *c0 = b.CreateMul(b.CreateUDiv(m, c64(mpg)), c64(cpg), "c0");
      std::vector<Value *> o(k);
      std::function<void(IRBuilder<> &, int)> outLoop = [&](IRBuilder<> &b, int d) {
        if (d < k) {
          emitLoop(b, g.out[d], "o", [&](IRBuilder<> &b, Value *od) {
            o[d] = od;
            outLoop(b, d + 1);
          });
          return;
        }
        // Kernel offsets kd with 0 <= o·s - p + kd·dil < in: [lo, hi).
        std::vector<Value *> lo(k), hi(k);
        Value *count = c64(cpg);
        Value *outIdx = b.CreateAdd(b.CreateMul(smp, c64(g.M)), m);
        for (int d = 0; d < k; ++d) {
          Value *os = b.CreateMul(o[d], c64(g.strides[d]));
          Value *a = b.CreateSub(c64(g.padBegin[d]), os);
          Value *dil = c64(g.dilations[d]);
          Value *up = b.CreateSDiv(b.CreateAdd(a, c64(g.dilations[d] - 1)), dil);
          lo[d] = b.CreateSelect(b.CreateICmpSLE(a, c64(0)), c64(0), up);
          Value *t = b.CreateAdd(c64(g.in[d] - 1 + g.padBegin[d]), b.CreateNeg(os));
          Value *last = b.CreateAdd(b.CreateSDiv(t, dil), c64(1));
          Value *h = b.CreateSelect(b.CreateICmpSLT(last, c64(g.kernel[d])), last,
                                    c64(g.kernel[d]));
          hi[d] = b.CreateSelect(b.CreateICmpSLT(t, c64(0)), c64(0), h);
          Value *len = b.CreateSub(hi[d], lo[d]);
          len = b.CreateSelect(b.CreateICmpSLT(len, c64(0)), c64(0), len);
          count = b.CreateMul(count, len);
          outIdx = b.CreateAdd(b.CreateMul(outIdx, c64(g.out[d])), o[d]);
        }
        TapLoop taps = [&](IRBuilder<> &b, const TapVisitor &visit) {
          emitLoop(b, cpg, "c", [&](IRBuilder<> &b, Value *c) {
            std::vector<Value *> kd(k);
            std::function<void(IRBuilder<> &, int)> kLoop = [&](IRBuilder<> &b, int d) {
              if (d < k) {
                emitLoop(b, lo[d], hi[d], 1, "kd", [&](IRBuilder<> &b, Value *v) {
                  kd[d] = v;
                  kLoop(b, d + 1);
                });
                return;
              }
              Value *xi = b.CreateAdd(b.CreateMul(smp, c64(g.C)), b.CreateAdd(c0, c));
              Value *wi = b.CreateAdd(b.CreateMul(m, c64(cpg)), c);
              for (int e = 0; e < k; ++e) {
                Value *pos = b.CreateAdd(
                    b.CreateSub(b.CreateMul(o[e], c64(g.strides[e])), c64(g.padBegin[e])),
                    b.CreateMul(kd[e], c64(g.dilations[e])));
                xi = b.CreateAdd(b.CreateMul(xi, c64(g.in[e])), pos);
                wi = b.CreateAdd(b.CreateMul(wi, c64(g.kernel[e])), kd[e]);
              }
              visit(b, xi, wi);
            };
            kLoop(b, 0);
          });
        };
        body(b, outIdx, m, taps, count);
      };
      outLoop(b, 0);
    });
  });
}

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
  forEachOutput(b, s, batch, [&](IRBuilder<> &b, Value *out, Value *m, const TapLoop &taps,
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
  forEachOutput(b, s, batch, [&](IRBuilder<> &b, Value *out, Value *m, const TapLoop &taps,
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

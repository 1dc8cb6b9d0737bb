//===- codegen/AffineEmitter.cpp - Affine layers in LLVM IR ---------------===//
//
// An affine step is a product [R, K] x [K, N] with R = batch · rows-per-sample
// rows, W row-major [K, N] in a private constant global. Both kernels use the
// same loop nest, chosen so that each weight is read once per tile of rows and
// the innermost loop runs along N with a constant trip count (the loop
// vectorizer widens it to the host's vectors):
//
//   for r0 in 0..R step kRowTile:                      // a tile of <= 8 rows
//     for n0 in 0..N step kColTile:                    // <= 256 columns
//       init accumulators of the tile
//       for k in 0..K:
//         for t in tile:  x = in[r0 + t, k]            // scalar, hoisted
//           for n in chunk: acc[t, n] += W[k, n0 + n] · x
//       finish: write the tile's outputs
//
// eval accumulates in f32 directly in the output rows, from 0 in order of k,
// and adds the bias last: the same operations in the same order as
// ir::evaluate, so the two agree bit for bit. ibp follows docs/soundness.md: xc = (lo + hi)/2 and xr = (hi - lo)/2
// in double, c = Σ W·xc and a = Σ |W|·xr in double accumulators on the stack
// (two 8 × 256 tiles, 32 KiB), then per output
//   T      = colAbsSum[n] · max_k(|xc_k| + xr_k) + |b[n]|   (max per row)
//   margin = ((K + 4)·2^-53 + ulp_error·2^-24) · T
//   hi     = roundUp(c + b + a + margin),  lo = roundDown(c + b - a - margin).
// No fast-math flags: products and sums stay separately rounded, which is
// what the error bound γ_K assumes (an FMA would only be more accurate).
//
//===----------------------------------------------------------------------===//
#include "codegen/IrHelpers.h"
#include "codegen/StepEmitters.h"
#include "codegen/KernelEmitter.h"
#include "ir/Rounding.h"

#include <llvm/IR/Function.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <algorithm>

namespace gma::codegen {

using namespace llvm;

namespace {

constexpr int64_t kRowTile = 8;
constexpr int64_t kColTile = 256;

AllocaInst *alignedAlloca(IRBuilder<> &b, Type *elem, int64_t n, const char *name) {
  AllocaInst *a = b.CreateAlloca(ArrayType::get(elem, static_cast<uint64_t>(n)), nullptr, name);
  a->setAlignment(Align(64));
  return a;
}

/// Runs `chunk(n0, width)` over the column chunks of N: a loop over the full
/// chunks and, if N is not a multiple, one remainder chunk. `width` is a
/// compile-time constant in both, so the innermost loops have constant trip
/// counts.
void forEachColumnChunk(IRBuilder<> &b, int64_t n, int64_t chunkWidth,
                        const std::function<void(Value *n0, int64_t width)> &chunk) {
  int64_t full = n / chunkWidth, rem = n % chunkWidth;
  if (full == 1)
    chunk(b.getInt64(0), chunkWidth);
  else if (full > 1)
    emitLoop(b, b.getInt64(0), b.getInt64(full * chunkWidth), chunkWidth, "nchunk",
             [&](IRBuilder<> &, Value *n0) { chunk(n0, chunkWidth); });
  if (rem > 0)
    chunk(b.getInt64(full * chunkWidth), rem);
}

/// Rows of the tile starting at r0: min(kRowTile, R - r0).
Value *tileRows(IRBuilder<> &b, Value *r0, Value *rows) {
  Value *left = b.CreateSub(rows, r0);
  Value *tile = b.getInt64(kRowTile);
  return b.CreateSelect(b.CreateICmpSLT(left, tile), left, tile, "tile");
}

} // namespace

Function *emitAffineEval(Module &m, ConstantPool &pool, const Step &s, const std::string &name) {
  Function *f = createStepFunction(m, name, 2);
  Value *x = f->getArg(0), *y = f->getArg(1), *batch = f->getArg(2);
  IRBuilder<> b(&f->getEntryBlock());
  GlobalVariable *w = pool.get(s.weight, s.name + ".w");
  GlobalVariable *bias = pool.get(s.bias, s.name + ".b");
  const int64_t kk = s.k, nn = s.n;
  const int64_t nt = std::min(nn, kColTile);
  Value *rows = b.CreateMul(batch, b.getInt64(s.rows), "rows");

  emitLoop(b, b.getInt64(0), rows, kRowTile, "r0", [&](IRBuilder<> &b, Value *r0) {
    Value *tile = tileRows(b, r0, rows);
    forEachColumnChunk(b, nn, nt, [&](Value *n0, int64_t width) {
      Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
      emitLoop(b, b.getInt64(0), tile, 1, "tinit", [&](IRBuilder<> &b, Value *t) {
        Value *outRow = b.CreateAdd(b.CreateMul(b.CreateAdd(r0, t), b.getInt64(nn)), n0);
        emitLoop(b, width, "ninit", [&](IRBuilder<> &b, Value *j) {
          storeF32(b, zero, y, b.CreateAdd(outRow, j));
        });
      });
      emitLoop(b, kk, "k", [&](IRBuilder<> &b, Value *k) {
        Value *wRow = b.CreateAdd(b.CreateMul(k, b.getInt64(nn)), n0);
        emitLoop(b, b.getInt64(0), tile, 1, "t", [&](IRBuilder<> &b, Value *t) {
          Value *r = b.CreateAdd(r0, t);
          Value *xv = loadF32(b, x, b.CreateAdd(b.CreateMul(r, b.getInt64(kk)), k));
          Value *outRow = b.CreateAdd(b.CreateMul(r, b.getInt64(nn)), n0);
          emitLoop(b, width, "n", [&](IRBuilder<> &b, Value *j) {
            Value *o = b.CreateAdd(outRow, j);
            Value *prod = b.CreateFMul(loadF32(b, w, b.CreateAdd(wRow, j)), xv);
            storeF32(b, b.CreateFAdd(loadF32(b, y, o), prod), y, o);
          });
        });
      });
      emitLoop(b, b.getInt64(0), tile, 1, "tbias", [&](IRBuilder<> &b, Value *t) {
        Value *outRow = b.CreateAdd(b.CreateMul(b.CreateAdd(r0, t), b.getInt64(nn)), n0);
        emitLoop(b, width, "nbias", [&](IRBuilder<> &b, Value *j) {
          Value *o = b.CreateAdd(outRow, j);
          storeF32(b, b.CreateFAdd(loadF32(b, y, o), loadF32(b, bias, b.CreateAdd(n0, j))), y, o);
        });
      });
    });
  });
  b.CreateRetVoid();
  return f;
}

Function *emitAffineIbp(Module &m, ConstantPool &pool, const Step &s, const std::string &name) {
  Function *f = createStepFunction(m, name, 4);
  Value *xlo = f->getArg(0), *xhi = f->getArg(1), *ylo = f->getArg(2), *yhi = f->getArg(3);
  Value *batch = f->getArg(4);
  IRBuilder<> b(&f->getEntryBlock());
  Type *f64 = b.getDoubleTy();
  GlobalVariable *w = pool.get(s.weight, s.name + ".w");
  GlobalVariable *bias = pool.get(s.bias, s.name + ".b");
  GlobalVariable *colAbs = pool.get(s.colAbsSum, s.name + ".colabs");
  const int64_t kk = s.k, nn = s.n;
  const int64_t nt = std::min(nn, kColTile);
  const double coef = (static_cast<double>(kk + 4) * 0x1p-53 +
                       static_cast<double>(s.ulpError) * 0x1p-24) *
                      ir::chargeOn(ir::RoundingCharge::AffineIbp);

  AllocaInst *accC = alignedAlloca(b, f64, kRowTile * nt, "acc.c");
  AllocaInst *accA = alignedAlloca(b, f64, kRowTile * nt, "acc.a");
  AllocaInst *rowMax = alignedAlloca(b, f64, kRowTile, "rowmax");
  Value *rows = b.CreateMul(batch, b.getInt64(s.rows), "rows");
  Value *half = ConstantFP::get(f64, 0.5);
  Value *zero = ConstantFP::get(f64, 0.0);

  auto accPtr = [&](IRBuilder<> &b, AllocaInst *acc, Value *idx) {
    return b.CreateInBoundsGEP(f64, acc, idx);
  };
  auto loadD = [&](IRBuilder<> &b, AllocaInst *acc, Value *idx) {
    return b.CreateAlignedLoad(f64, accPtr(b, acc, idx), Align(8));
  };
  auto storeD = [&](IRBuilder<> &b, Value *v, AllocaInst *acc, Value *idx) {
    b.CreateAlignedStore(v, accPtr(b, acc, idx), Align(8));
  };
  // xc and xr of input element `i`, in double (one rounding each: an f32 sum
  // is not always exact in double; docs/soundness.md).
  auto centreRadius = [&](IRBuilder<> &b, Value *i) {
    Value *lo = toDouble(b, loadF32(b, xlo, i));
    Value *hi = toDouble(b, loadF32(b, xhi, i));
    return std::make_pair(b.CreateFMul(b.CreateFAdd(lo, hi), half, "xc"),
                          b.CreateFMul(b.CreateFSub(hi, lo), half, "xr"));
  };

  emitLoop(b, b.getInt64(0), rows, kRowTile, "r0", [&](IRBuilder<> &b, Value *r0) {
    Value *tile = tileRows(b, r0, rows);
    // max_k(|xc_k| + xr_k) per row, for the rounding margin.
    emitLoop(b, b.getInt64(0), tile, 1, "tmax", [&](IRBuilder<> &b, Value *t) {
      Value *rowBase = b.CreateMul(b.CreateAdd(r0, t), b.getInt64(kk));
      storeD(b, zero, rowMax, t);
      emitLoop(b, kk, "kmax", [&](IRBuilder<> &b, Value *k) {
        auto [xc, xr] = centreRadius(b, b.CreateAdd(rowBase, k));
        Value *mag = b.CreateFAdd(b.CreateUnaryIntrinsic(Intrinsic::fabs, xc), xr);
        Value *cur = loadD(b, rowMax, t);
        storeD(b, b.CreateBinaryIntrinsic(Intrinsic::maxnum, cur, mag), rowMax, t);
      });
    });

    forEachColumnChunk(b, nn, nt, [&](Value *n0, int64_t width) {
      Value *accLen = b.CreateMul(tile, b.getInt64(nt));
      emitLoop(b, b.getInt64(0), accLen, 1, "zero", [&](IRBuilder<> &b, Value *i) {
        storeD(b, zero, accC, i);
        storeD(b, zero, accA, i);
      });
      emitLoop(b, kk, "k", [&](IRBuilder<> &b, Value *k) {
        Value *wRow = b.CreateAdd(b.CreateMul(k, b.getInt64(nn)), n0);
        emitLoop(b, b.getInt64(0), tile, 1, "t", [&](IRBuilder<> &b, Value *t) {
          Value *r = b.CreateAdd(r0, t);
          auto [xc, xr] = centreRadius(b, b.CreateAdd(b.CreateMul(r, b.getInt64(kk)), k));
          Value *accRow = b.CreateMul(t, b.getInt64(nt));
          emitLoop(b, width, "n", [&](IRBuilder<> &b, Value *j) {
            Value *wv = toDouble(b, loadF32(b, w, b.CreateAdd(wRow, j)));
            Value *wAbs = b.CreateUnaryIntrinsic(Intrinsic::fabs, wv);
            Value *ai = b.CreateAdd(accRow, j);
            storeD(b, b.CreateFAdd(loadD(b, accC, ai), b.CreateFMul(wv, xc)), accC, ai);
            storeD(b, b.CreateFAdd(loadD(b, accA, ai), b.CreateFMul(wAbs, xr)), accA, ai);
          });
        });
      });
      emitLoop(b, b.getInt64(0), tile, 1, "tout", [&](IRBuilder<> &b, Value *t) {
        Value *mag = loadD(b, rowMax, t);
        Value *accRow = b.CreateMul(t, b.getInt64(nt));
        Value *outRow = b.CreateAdd(b.CreateMul(b.CreateAdd(r0, t), b.getInt64(nn)), n0);
        emitLoop(b, width, "nout", [&](IRBuilder<> &b, Value *j) {
          Value *n = b.CreateAdd(n0, j);
          Value *ai = b.CreateAdd(accRow, j);
          Value *bv = toDouble(b, loadF32(b, bias, n));
          Value *cb = b.CreateFAdd(loadD(b, accC, ai), bv, "cb");
          Value *a = loadD(b, accA, ai);
          Value *tsum = b.CreateFAdd(b.CreateFMul(toDouble(b, loadF32(b, colAbs, n)), mag),
                                     b.CreateUnaryIntrinsic(Intrinsic::fabs, bv));
          Value *margin = b.CreateFMul(ConstantFP::get(f64, coef), tsum, "margin");
          Value *hi = roundUp(b, b.CreateFAdd(b.CreateFAdd(cb, a), margin));
          Value *lo = roundDown(b, b.CreateFSub(b.CreateFSub(cb, a), margin));
          Value *o = b.CreateAdd(outRow, j);
          storeF32(b, lo, ylo, o);
          storeF32(b, hi, yhi, o);
        });
      });
    });
  });
  b.CreateRetVoid();
  return f;
}

Function *affineEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &,
                         const std::string &name) {
  return emitAffineEval(ctx.m, ctx.pool, s, name);
}

Function *affineIbpStep(StepEmitContext &ctx, const Step &s, const StepBuffers &,
                        const std::string &name) {
  return emitAffineIbp(ctx.m, ctx.pool, s, name);
}

} // namespace gma::codegen

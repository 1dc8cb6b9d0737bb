//===- codegen/ConvLoops.cpp - The loop nest of a conv step -----------------===//
//
// codegen/ConvLoops.h. Shared by the conv step functions (ConvEmitter.cpp)
// and conv's backward rule (CrownEmitter.cpp).
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvLoops.h"

#include "codegen/IrHelpers.h"

#include <tuple>
#include <vector>

namespace gma::codegen {

using namespace llvm;

void convLoop(IRBuilder<> &b, Value *begin, Value *end, int64_t step, const char *name,
              const LoopBody &body) {
  emitLoop(b, begin, end, step, name, body, LoopHint::Unroll);
}
void convLoop(IRBuilder<> &b, int64_t end, const char *name, const LoopBody &body) {
  emitLoop(b, end, name, body, LoopHint::Unroll);
}

namespace {

/// The kernel offsets kd of dim d whose input position o·s - p + kd·dil lies
/// inside the input, for output position o: [lo, hi) (possibly empty).
std::pair<Value *, Value *> kernelRange(IRBuilder<> &b, const ir::ConvGeometry &g, int d,
                                        Value *o) {
  auto c64 = [&](int64_t v) { return b.getInt64(v); };
  Value *os = b.CreateMul(o, c64(g.strides[d]));
  Value *a = b.CreateSub(c64(g.padBegin[d]), os);
  Value *dil = c64(g.dilations[d]);
  Value *up = b.CreateSDiv(b.CreateAdd(a, c64(g.dilations[d] - 1)), dil);
  Value *lo = b.CreateSelect(b.CreateICmpSLE(a, c64(0)), c64(0), up);
  Value *t = b.CreateAdd(c64(g.in[d] - 1 + g.padBegin[d]), b.CreateNeg(os));
  Value *last = b.CreateAdd(b.CreateSDiv(t, dil), c64(1));
  Value *h = b.CreateSelect(b.CreateICmpSLT(last, c64(g.kernel[d])), last, c64(g.kernel[d]));
  Value *hi = b.CreateSelect(b.CreateICmpSLT(t, c64(0)), c64(0), h);
  return {lo, hi};
}

Value *rangeLength(IRBuilder<> &b, Value *lo, Value *hi) {
  Value *len = b.CreateSub(hi, lo);
  return b.CreateSelect(b.CreateICmpSLT(len, b.getInt64(0)), b.getInt64(0), len);
}

/// The input and weight indices of the tap (channel c of the group starting
/// at c0, kernel offsets kd) of output position o over the first `dims`
/// spatial dims: x[smp, c0 + c, pos...], W[m, c, kd...].
std::pair<Value *, Value *> tapIndex(IRBuilder<> &b, const ir::ConvGeometry &g, Value *smp,
                                     Value *c0, Value *m, Value *c,
                                     const std::vector<Value *> &o,
                                     const std::vector<Value *> &kd, int dims) {
  auto c64 = [&](int64_t v) { return b.getInt64(v); };
  Value *xi = b.CreateAdd(b.CreateMul(smp, c64(g.C)), b.CreateAdd(c0, c));
  Value *wi = b.CreateAdd(b.CreateMul(m, c64(g.C / g.group)), c);
  for (int e = 0; e < dims; ++e) {
    Value *pos =
        b.CreateAdd(b.CreateSub(b.CreateMul(o[e], c64(g.strides[e])), c64(g.padBegin[e])),
                    b.CreateMul(kd[e], c64(g.dilations[e])));
    xi = b.CreateAdd(b.CreateMul(xi, c64(g.in[e])), pos);
    wi = b.CreateAdd(b.CreateMul(wi, c64(g.kernel[e])), kd[e]);
  }
  return {xi, wi};
}

Value *smin(IRBuilder<> &b, Value *x, Value *y) {
  return b.CreateSelect(b.CreateICmpSLT(x, y), x, y);
}
Value *smax(IRBuilder<> &b, Value *x, Value *y) {
  return b.CreateSelect(b.CreateICmpSGT(x, y), x, y);
}

} // namespace

void forEachConvTile(IRBuilder<> &b, const Step &s, Value *batch, int64_t tile,
                     const ConvTileBody &body) {
  const ir::ConvGeometry &g = *s.conv;
  const int k = static_cast<int>(g.k), L = k - 1; // L: the last spatial dim
  const int64_t cpg = g.C / g.group, mpg = g.M / g.group;
  auto c64 = [&](int64_t v) { return b.getInt64(v); };
  convLoop(b, b.getInt64(0), b.CreateMul(batch, c64(g.N)), 1, "smp",
           [&](IRBuilder<> &b, Value *smp) {
    convLoop(b, g.M, "m", [&](IRBuilder<> &b, Value *m) {
      Value *c0 = b.CreateMul(b.CreateUDiv(m, c64(mpg)), c64(cpg), "c0");
      std::vector<Value *> o(k);
      std::function<void(IRBuilder<> &, int)> rowLoop = [&](IRBuilder<> &b, int d) {
        if (d < L) {
          convLoop(b, g.out[d], "orow", [&](IRBuilder<> &b, Value *od) {
            o[d] = od;
            rowLoop(b, d + 1);
          });
          return;
        }
        // One output row: the leading dims' kernel ranges and tap count.
        std::vector<Value *> lo(k), hi(k);
        Value *rowCount = c64(cpg);
        Value *rowIdx = b.CreateAdd(b.CreateMul(smp, c64(g.M)), m);
        for (int e = 0; e < L; ++e) {
          std::tie(lo[e], hi[e]) = kernelRange(b, g, e, o[e]);
          rowCount = b.CreateMul(rowCount, rangeLength(b, lo[e], hi[e]));
          rowIdx = b.CreateAdd(b.CreateMul(rowIdx, c64(g.out[e])), o[e]);
        }
        Value *rowBase = b.CreateMul(rowIdx, c64(g.out[L]));
        const int64_t outL = g.out[L];
        convLoop(b, b.getInt64(0), c64(outL), tile, "tile", [&](IRBuilder<> &b, Value *t0) {
          ConvTile ct;
          ct.m = m;
          ct.width = smin(b, c64(tile), b.CreateSub(c64(outL), t0));
          ct.outBase = b.CreateAdd(rowBase, t0);
          body.begin(b, ct);
          convLoop(b, cpg, "c", [&](IRBuilder<> &b, Value *c) {
            std::vector<Value *> kd(k);
            std::function<void(IRBuilder<> &, int)> kLoop = [&](IRBuilder<> &b, int d) {
              if (d < L) {
                convLoop(b, lo[d], hi[d], 1, "kd", [&](IRBuilder<> &b, Value *v) {
                  kd[d] = v;
                  kLoop(b, d + 1);
                });
                return;
              }
              convLoop(b, g.kernel[L], "kl", [&](IRBuilder<> &b, Value *kl) {
                // Outputs o = t0 + j of the tile whose input position
                // o·s - p + kl·dil lies in [0, in): j in [jLo, jHi).
                Value *off = b.CreateSub(b.CreateMul(kl, c64(g.dilations[L])), c64(g.padBegin[L]));
                Value *a = b.CreateNeg(off);
                Value *oLo = b.CreateSelect(
                    b.CreateICmpSLE(a, c64(0)), c64(0),
                    b.CreateSDiv(b.CreateAdd(a, c64(g.strides[L] - 1)), c64(g.strides[L])));
                Value *t = b.CreateSub(c64(g.in[L] - 1), off);
                Value *oHi = b.CreateSelect(b.CreateICmpSLT(t, c64(0)), c64(0),
                                            b.CreateAdd(b.CreateSDiv(t, c64(g.strides[L])), c64(1)));
                Value *jLo = smax(b, b.CreateSub(oLo, t0), c64(0));
                Value *jHi = smin(b, b.CreateSub(oHi, t0), ct.width);
                auto [xRow, wi] = tapIndex(b, g, smp, c0, m, c, o, kd, L);
                xRow = b.CreateAdd(b.CreateMul(xRow, c64(g.in[L])), off);
                wi = b.CreateAdd(b.CreateMul(wi, c64(g.kernel[L])), kl);
                Value *xBase = b.CreateAdd(xRow, b.CreateMul(t0, c64(g.strides[L])));
                convLoop(b, jLo, jHi, 1, "j", [&](IRBuilder<> &b, Value *j) {
                  body.tap(b, j, b.CreateAdd(xBase, b.CreateMul(j, c64(g.strides[L]))), wi);
                });
              });
            };
            kLoop(b, 0);
          });
          body.end(b, ct, [&, t0](IRBuilder<> &b, Value *j) {
            auto [l, h] = kernelRange(b, g, L, b.CreateAdd(t0, j));
            return b.CreateMul(rowCount, rangeLength(b, l, h));
          });
        });
      };
      rowLoop(b, 0);
    });
  });
}

void forEachConvOutput(IRBuilder<> &b, const Step &s, Value *batch, const ConvOutputBody &body) {
  const ir::ConvGeometry &g = *s.conv;
  const int k = static_cast<int>(g.k);
  const int64_t cpg = g.C / g.group, mpg = g.M / g.group;
  auto c64 = [&](int64_t v) { return b.getInt64(v); };
  convLoop(b, b.getInt64(0), b.CreateMul(batch, c64(g.N)), 1, "smp",
           [&](IRBuilder<> &b, Value *smp) {
    convLoop(b, g.M, "m", [&](IRBuilder<> &b, Value *m) {
      Value *c0 = b.CreateMul(b.CreateUDiv(m, c64(mpg)), c64(cpg), "c0");
      std::vector<Value *> o(k);
      std::function<void(IRBuilder<> &, int)> outLoop = [&](IRBuilder<> &b, int d) {
        if (d < k) {
          convLoop(b, g.out[d], "o", [&](IRBuilder<> &b, Value *od) {
            o[d] = od;
            outLoop(b, d + 1);
          });
          return;
        }
        // Kernel offsets kd with 0 <= o·s - p + kd·dil < in: [lo, hi).
        std::vector<Value *> lo(k), hi(k);
        Value *outIdx = b.CreateAdd(b.CreateMul(smp, c64(g.M)), m);
        for (int d = 0; d < k; ++d) {
          std::tie(lo[d], hi[d]) = kernelRange(b, g, d, o[d]);
          outIdx = b.CreateAdd(b.CreateMul(outIdx, c64(g.out[d])), o[d]);
        }
        ConvTapLoop taps = [&](IRBuilder<> &b, const ConvTapVisitor &visit) {
          convLoop(b, cpg, "c", [&](IRBuilder<> &b, Value *c) {
            std::vector<Value *> kd(k);
            std::function<void(IRBuilder<> &, int)> kLoop = [&](IRBuilder<> &b, int d) {
              if (d < k) {
                convLoop(b, lo[d], hi[d], 1, "kd", [&](IRBuilder<> &b, Value *v) {
                  kd[d] = v;
                  kLoop(b, d + 1);
                });
                return;
              }
              auto [xi, wi] = tapIndex(b, g, smp, c0, m, c, o, kd, k);
              visit(b, xi, wi);
            };
            kLoop(b, 0);
          });
        };
        body(b, outIdx, m, taps);
      };
      outLoop(b, 0);
    });
  });
}

} // namespace gma::codegen

//===- codegen/ConvLoops.cpp - The loop nest of a conv step -----------------===//
//
// codegen/ConvLoops.h. Shared by the conv step functions (ConvEmitter.cpp)
// and conv's backward rule (CrownEmitter.cpp).
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvLoops.h"

#include "codegen/IrHelpers.h"

#include <vector>

namespace gma::codegen {

using namespace llvm;

void forEachConvOutput(IRBuilder<> &b, const Step &s, Value *batch, const ConvOutputBody &body) {
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
        ConvTapLoop taps = [&](IRBuilder<> &b, const ConvTapVisitor &visit) {
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

} // namespace gma::codegen

//===- codegen/CrownEmitter.cpp - CROWN and gradient kernels in LLVM IR ---===//
//
// The crown and grad kernels of abi/KernelAbi.h, computing what ir::crown
// and ir::inputGradient (ir/Crown.cpp) compute, with the same relaxation, the
// same intermediate-bound policy and the same rounding margins:
//
//   <prefix>_crown(xlo, xhi, C, rows, lower, coefs, batch, scratch)
//     for each box b (one at a time, scratch slice b of CrownLayout.h):
//       1. forward: the ibp step functions on the slice's bound slots; before
//          each ReLU, its input's unstable neurons (l < 0 < u) are tightened
//          by a backward pass over the 2·U rows (e_i; -e_i), intersected with
//          the interval bounds (ir::crown's intersectIntermediate);
//       2. the backward pass of C (rows × outputs) from the output to the
//          input, concretised over the box: lower bound L and the linear
//          bound (coefficients and offset);
//       3. lower = max(roundDown(L), roundDown(C·[ylo, yhi] - margin)).
//   <prefix>_grad(x, c, grad, batch, scratch)
//     the eval step functions on x (the f32 value of every value), then a
//     backward pass of the one row c with ReLU derivative [l + u > 0].
//
// Backward rules (one internal function per step and mode), for Λ on the
// result, accumulating into Λ on the operand and into per-row c and err:
//   affine   Λx[r, k] += Σ_n Λ[r, n]·W[k, n] (W read as [N, K]: the inner loop
//            runs along K with a constant trip count and vectorises),
//            c += Λ·b, err += |Λ|·(γ_F·|W|ᵀ·m_x + γ_N·|b|) (+ ulp_error·2^-24);
//   relu     l >= 0: Λ;  u <= 0: 0;  else λ >= 0: a·λ (a = [u > -l]),
//            λ < 0: s·λ with s = u/(u - l) and t = -s·l rounded up,
//            c += Σ λ·t, err += γ_F·|λ·s|·m + γ_n·|λ·t|;
//   x ± C    c ± Λ·C, err += γ_n·|Λ|·|C|;  x·C, x/C: Λ·C (1/C),
//            err += γ_{F+1} (γ_{F+2})·|Λ·C|·m_x;  neg, copy, x ± y: exact
//            (γ_{F-1}·|Λ|·m_x when the operand has other consumers);
//   every add of a rule's constant sum into c: err += u·|c_new|.
// F is the operand's fan-in count (fanInCounts), n the rule's term count;
// docs/soundness.md derives each charge from its rounding lemma.
// Row reductions (c, err, the concretisation) carry the `reassoc` flag so
// that the vectorizer can split them: their error bounds (γ_n·Σ|terms|) hold
// for any summation order, and err itself is widened by (1 + 1e-9) at the end
// as in ir/Crown.cpp. Every other operation is an individually rounded IEEE
// operation as in the oracle, so the results agree up to summation order.
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvLoops.h"
#include "codegen/IrHelpers.h"
#include "codegen/KernelEmitter.h"
#include "codegen/StepEmitters.h"
#include "ir/Rounding.h"
#include "ir/ScalarRelaxation.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace gma::codegen {

using namespace llvm;

namespace {

constexpr double kU = ir::kUnitRoundoff;
using ir::chargeOn;
using ir::gammaBound;
using ir::RoundingCharge;

/// Terms summed into each coefficient of Λ on each value over all its
/// consumers (ir/Crown.cpp's fanInCounts on the plan; views are resolved, so
/// a reshape is no consumer): affine N products, every other step 1 term.
std::vector<int64_t> fanInCounts(const KernelPlan &plan) {
  std::vector<int64_t> f(static_cast<size_t>(std::max<int32_t>(plan.numValues, 0)), 0);
  for (const Step &s : plan.steps)
    for (size_t k = 0; k < s.inValues.size(); ++k)
      if (int32_t v = s.inValues[k]; v >= 0 && v < plan.numValues)
        f[v] += stepRecord(s).terms(s, k);
  return f;
}

using Mode = CrownMode; // codegen/StepRecord.h

const char *modeName(Mode m) {
  switch (m) {
  case Mode::Crown:
    return "_crown";
  case Mode::CrownParallel:
    return "_crown.par";
  case Mode::Grad:
    return "_grad";
  }
  return "";
}

} // namespace

class CrownEmitter {
public:
  CrownEmitter(Module &m, ConstantPool &pool, const KernelPlan &plan, const CrownLayout &lay,
               const std::string &prefix, const IbpStepFactory &ibpStep,
               const IbpStepFactory &evalStep)
      : m_(m), ctx_(m.getContext()), pool_(pool), plan_(plan), lay_(lay), prefix_(prefix),
        ibpStep_(ibpStep), evalStep_(evalStep), fanIn_(fanInCounts(plan)) {}

  CrownFunctions run() {
    CrownFunctions fns;
    fns.crown = emitCrownEntry();
    fns.grad = emitGradEntry();
    return fns;
  }

  // --- backward rules (public: the step records' hooks call them) --------
  Function *affineRule(const Step &s, Mode mode, const std::string &name);
  Function *convRule(const Step &s, Mode mode, const std::string &name);
  Function *reluRule(const Step &s, Mode mode, const std::string &name);
  Function *scalarRule(const Step &s, Mode mode, const std::string &name);
  Function *binaryConstRule(const Step &s, Mode mode, const std::string &name);
  Function *linearRule(const Step &s, Mode mode, const std::string &name);
  Function *gatherRule(const Step &s, Mode mode, const std::string &name);
  Function *maxRule(const Step &s, Mode mode, const std::string &name);

private:
  // --- small IR helpers -------------------------------------------------
  Type *f64() { return Type::getDoubleTy(ctx_); }
  Value *cd(double v) { return ConstantFP::get(f64(), v); }
  Value *dPtr(IRBuilder<> &b, Value *base, Value *idx) {
    return b.CreateInBoundsGEP(f64(), base, idx);
  }
  Value *loadD(IRBuilder<> &b, Value *base, Value *idx) {
    return b.CreateAlignedLoad(f64(), dPtr(b, base, idx), Align(8));
  }
  void storeD(IRBuilder<> &b, Value *v, Value *base, Value *idx) {
    b.CreateAlignedStore(v, dPtr(b, base, idx), Align(8));
  }
  void addD(IRBuilder<> &b, Value *v, Value *base, Value *idx) {
    storeD(b, b.CreateFAdd(loadD(b, base, idx), v), base, idx);
  }
  Value *fabs(IRBuilder<> &b, Value *v) { return b.CreateUnaryIntrinsic(Intrinsic::fabs, v); }
  Value *maxMag(IRBuilder<> &b, Value *lo, Value *hi) {
    return b.CreateBinaryIntrinsic(Intrinsic::maxnum, fabs(b, lo), fabs(b, hi));
  }
  /// A double accumulator in the entry block (promoted to a register).
  AllocaInst *accumulator(IRBuilder<> &b, const char *name) {
    IRBuilder<> eb(&b.GetInsertBlock()->getParent()->getEntryBlock(),
                   b.GetInsertBlock()->getParent()->getEntryBlock().begin());
    return eb.CreateAlloca(f64(), nullptr, name);
  }
  /// acc += v, reassociable (a reduction whose error bound ignores order).
  void reduce(IRBuilder<> &b, AllocaInst *acc, Value *v) {
    Value *sum = b.CreateFAdd(b.CreateLoad(f64(), acc), v);
    cast<Instruction>(sum)->setHasAllowReassoc(true);
    b.CreateStore(sum, acc);
  }
  Value *floatAt(IRBuilder<> &b, Value *slice, int64_t off) {
    return off == 0 ? slice : floatPtr(b, slice, b.getInt64(off));
  }
  /// `if (cond) then()`; leaves the builder after the join.
  void emitIf(IRBuilder<> &b, Value *cond, const char *name, const std::function<void()> &then) {
    Function *f = b.GetInsertBlock()->getParent();
    BasicBlock *thenBb = BasicBlock::Create(ctx_, Twine(name) + ".then", f);
    BasicBlock *join = BasicBlock::Create(ctx_, Twine(name) + ".join", f);
    b.CreateCondBr(cond, thenBb, join);
    b.SetInsertPoint(thenBb);
    then();
    b.CreateBr(join);
    b.SetInsertPoint(join);
  }
  /// ir/Rounding.h's crownUpRel and crownDownRel: v moved 4u (relative)
  /// away from zero / towards -inf.
  Value *upRel(IRBuilder<> &b, Value *v) {
    return b.CreateSelect(b.CreateFCmpOGE(v, cd(0.0)), b.CreateFMul(v, cd(1 + 4 * kU)),
                          b.CreateFMul(v, cd(1 - 4 * kU)));
  }
  Value *downRel(IRBuilder<> &b, Value *v) {
    return b.CreateSelect(b.CreateFCmpOGE(v, cd(0.0)), b.CreateFMul(v, cd(1 - 4 * kU)),
                          b.CreateFMul(v, cd(1 + 4 * kU)));
  }
  /// base[0, count) = value; zeros as one memset (no loop for the optimiser
  /// to recognise).
  void zeroDoubles(IRBuilder<> &b, Value *base, Value *count, double value = 0.0) {
    if (value == 0.0 && !std::signbit(value)) {
      b.CreateMemSet(base, b.getInt8(0), b.CreateMul(count, b.getInt64(8)), Align(8));
      return;
    }
    emitLoop(b, b.getInt64(0), count, 1, "zero",
             [&](IRBuilder<> &b, Value *i) { storeD(b, cd(value), base, i); });
  }
  /// γ of a Λ term on value v with `extra` roundings of its own, summed with
  /// the other F_v - 1 terms (ir::crown's termGamma).
  double termGamma(int32_t v, int64_t extra) const {
    int64_t f = v >= 0 && v < static_cast<int32_t>(fanIn_.size()) ? fanIn_[v] : 1;
    int64_t others = std::max<int64_t>(f, 1) - 1;
    if (ir::roundingMutation() == RoundingCharge::CrownFanIn)
      others = 0;
    return gammaBound(others + extra);
  }
  /// c[r] += sum; err[r] += u·|c[r]| (the add's rounding, L1).
  void addConstant(IRBuilder<> &b, Value *c, Value *err, Value *r, Value *sum) {
    Value *cn = b.CreateFAdd(loadD(b, c, r), sum);
    storeD(b, cn, c, r);
    double k = kU * chargeOn(RoundingCharge::CrownConstant);
    if (k != 0)
      addD(b, b.CreateFMul(cd(k), fabs(b, cn)), err, r);
  }

  /// Pointers into the slice of a box.
  struct Slice {
    Value *base, *xlo, *xhi;
  };
  Value *boundsLo(IRBuilder<> &b, const Slice &s, int32_t v) {
    return v == plan_.inputValue ? s.xlo : floatAt(b, s.base, lay_.boundsOff[v]);
  }
  Value *boundsHi(IRBuilder<> &b, const Slice &s, int32_t v) {
    return v == plan_.inputValue ? s.xhi : floatAt(b, s.base, lay_.boundsOff[v] + lay_.numel[v]);
  }
  /// The rows-scaled area: c, err, lower at 0, rows, 2·rows; Λ from 3·rows.
  struct Dyn {
    Value *c, *err, *lower, *lam, *rows;
  };
  Dyn dyn(IRBuilder<> &b, Value *slice, Value *rows) {
    Value *base = floatAt(b, slice, lay_.dynOff);
    return {base, dPtr(b, base, rows), dPtr(b, base, b.CreateMul(rows, b.getInt64(2))),
            dPtr(b, base, b.CreateMul(rows, b.getInt64(3))), rows};
  }
  Value *lamOf(IRBuilder<> &b, const Dyn &d, const CrownPass &p, int32_t v) {
    assert(p.lamOffset[v] >= 0 && "value not crossed by this pass");
    return dPtr(b, d.lam, b.CreateMul(d.rows, b.getInt64(p.lamOffset[v])));
  }
  /// v's entries of a per-box slopes array (null stays null; null for a
  /// value that is not relaxed: a ReLU of the input has no entries); `scale`
  /// 2 for a bounds array.
  Value *slopesOf(IRBuilder<> &b, Value *arr, int32_t v, int64_t scale = 1) {
    auto it = std::find(lay_.relaxed.begin(), lay_.relaxed.end(), v);
    if (it == lay_.relaxed.end())
      return ConstantPointerNull::get(PointerType::getUnqual(ctx_));
    const int64_t off = lay_.relaxedOff[static_cast<size_t>(it - lay_.relaxed.begin())];
    return b.CreateSelect(b.CreateIsNull(arr), arr, floatPtr(b, arr, b.getInt64(scale * off)));
  }

  // --- backward rules -----------------------------------------------------
  Function *rule(int stepIdx, Mode mode);
  Function *scalarRelax();
  Function *reluApply(const Step &s);
  /// Whether a linear step's exact terms are charged (an operand with other
  /// consumers, F > 1): the rule then also takes (c, err, tmp) and the
  /// bounds of each distinct operand.
  bool linearCharged(const Step &s) const {
    if (s.constant.size > 0) // a gather's constants: c += Λ·C
      return true;
    for (int32_t v : s.inValues)
      if (termGamma(v, 0) > 0)
        return true;
    return false;
  }

  // --- passes and entries ---------------------------------------------
  Function *pass(const CrownPass &p, Mode mode);
  Function *concretise();
  Function *tightenHelper(int which); // 0 unstable, 1 spec, 2 update
  Function *clampHelper();
  /// lower[0, n) = v and, if coefs is not null, each row's linear bound
  /// 0·x + v (a -inf that is always sound, or the +inf of an empty set).
  void emitInfeasible(IRBuilder<> &b, Value *lower, Value *coefs, Value *n, Value *v);
  Function *forward(bool tighten);
  void emitTighten(IRBuilder<> &b, const Slice &sl, int32_t target, bool all);
  Function *emitCrownEntry();
  Function *emitGradEntry();

  Module &m_;
  LLVMContext &ctx_;
  ConstantPool &pool_;
  const KernelPlan &plan_;
  const CrownLayout &lay_;
  std::string prefix_;
  const IbpStepFactory &ibpStep_, &evalStep_;
  std::vector<int64_t> fanIn_;
  std::map<std::pair<int, Mode>, Function *> rules_;
  std::map<std::pair<int32_t, Mode>, Function *> passes_;
  Function *relax_ = nullptr;
  Function *concretise_ = nullptr;
  Function *clamp_ = nullptr;
  std::map<std::tuple<int64_t, double, double>, Function *> reluApply_;
  Function *tightenFns_[3] = {nullptr, nullptr, nullptr};
};

Function *CrownEmitter::rule(int stepIdx, Mode mode) {
  const Step &s = plan_.steps[stepIdx];
  const StepRecord &rec = stepRecord(s);
  if (mode == Mode::CrownParallel && !rec.parallelVariant)
    mode = Mode::Crown;
  auto key = std::make_pair(stepIdx, mode);
  if (auto it = rules_.find(key); it != rules_.end())
    return it->second;
  std::string name = prefix_ + modeName(mode) + ".back." + s.name;
  assert(rec.crownRule && "computeCrownLayout admits only steps with a backward rule");
  Function *f = rec.crownRule(*this, s, mode, name);
  rules_[key] = f;
  return f;
}

/// Crown: (Ly, Lx, c, err, tmp, xlo, xhi, rows); grad: (Ly, Lx, rows).
Function *CrownEmitter::affineRule(const Step &s, Mode mode, const std::string &name) {
  const bool crown = mode != Mode::Grad;
  Function *f = createStepFunction(m_, name, crown ? 7 : 2);
  Value *ly = f->getArg(0), *lx = f->getArg(1);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const int64_t K = s.k, N = s.n, RX = s.rows;

  GlobalVariable *wT = pool_.get(s.weightT, s.name + ".wt");
  GlobalVariable *w = pool_.get(s.weight, s.name + ".w");
  GlobalVariable *bias = pool_.get(s.bias, s.name + ".b");

  Value *c = nullptr, *err = nullptr, *q = nullptr;
  if (crown) {
    c = f->getArg(2);
    err = f->getArg(3);
    q = f->getArg(4);
    Value *xlo = f->getArg(5), *xhi = f->getArg(6);
    // q[row·N + n] = Σ_k |W[k, n]|·m_x[row·K + k], along n (vectorised).
    zeroDoubles(b, q, b.getInt64(RX * N));
    emitLoop(b, RX, "qrow", [&](IRBuilder<> &b, Value *row) {
      emitLoop(b, K, "qk", [&](IRBuilder<> &b, Value *k) {
        Value *xi = b.CreateAdd(b.CreateMul(row, b.getInt64(K)), k);
        Value *mx = maxMag(b, toDouble(b, loadF32(b, xlo, xi)), toDouble(b, loadF32(b, xhi, xi)));
        Value *wRow = b.CreateMul(k, b.getInt64(N));
        Value *qRow = b.CreateMul(row, b.getInt64(N));
        emitLoop(b, N, "qn", [&](IRBuilder<> &b, Value *n) {
          Value *wa = fabs(b, toDouble(b, loadF32(b, w, b.CreateAdd(wRow, n))));
          addD(b, b.CreateFMul(wa, mx), q, b.CreateAdd(qRow, n));
        });
      });
    });
  }
  // Λx[k] sums N rounded products (and x's other consumers' terms): γ_F·|λ|·q;
  // the bias dot product γ_N·|λ|·|b|; the folding error on both (ir::crown).
  const double ulp = static_cast<double>(s.ulpError) * 0x1p-24;
  const double chargeA = chargeOn(RoundingCharge::CrownAffine);
  const double coefQ = (termGamma(s.inValues[0], 1) + ulp) * chargeA;
  const double coefB = (gammaBound(N) + ulp) * chargeA;
  AllocaInst *cAcc = crown ? accumulator(b, "cacc") : nullptr;
  AllocaInst *sAcc = crown ? accumulator(b, "sacc") : nullptr;
  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    emitLoop(b, RX, "row", [&](IRBuilder<> &b, Value *row) {
      Value *lyRow = b.CreateAdd(b.CreateMul(r, b.getInt64(RX * N)), b.CreateMul(row, b.getInt64(N)));
      Value *lxRow = b.CreateAdd(b.CreateMul(r, b.getInt64(RX * K)), b.CreateMul(row, b.getInt64(K)));
      if (crown) {
        b.CreateStore(cd(0.0), cAcc);
        b.CreateStore(cd(0.0), sAcc);
      }
      emitLoop(b, N, "n", [&](IRBuilder<> &b, Value *n) {
        Value *lam = loadD(b, ly, b.CreateAdd(lyRow, n));
        if (crown) {
          Value *bn = toDouble(b, loadF32(b, bias, n));
          reduce(b, cAcc, b.CreateFMul(lam, bn));
          Value *qn = loadD(b, q, b.CreateAdd(b.CreateMul(row, b.getInt64(N)), n));
          reduce(b, sAcc, b.CreateFMul(fabs(b, lam), b.CreateFAdd(b.CreateFMul(cd(coefQ), qn),
                                                                   b.CreateFMul(cd(coefB), fabs(b, bn)))));
        }
        // Rows of Λ are mostly zero behind inactive ReLUs: skip them.
        emitIf(b, b.CreateFCmpUNE(lam, cd(0.0)), "nz", [&] {
          Value *wRow = b.CreateMul(n, b.getInt64(K));
          emitLoop(b, K, "k", [&](IRBuilder<> &b, Value *k) {
            Value *wv = toDouble(b, loadF32(b, wT, b.CreateAdd(wRow, k)));
            addD(b, b.CreateFMul(lam, wv), lx, b.CreateAdd(lxRow, k));
          });
        });
      });
      if (crown) {
        addD(b, b.CreateLoad(f64(), sAcc), err, r);
        addConstant(b, c, err, r, b.CreateLoad(f64(), cAcc));
      }
    });
  });
  b.CreateRetVoid();
  return f;
}

/// Crown: (Ly, Lx, c, err, tmp, xlo, xhi, rows); grad: (Ly, Lx, rows). The
/// transposed convolution of Λ over the taps (codegen/ConvLoops.h), with
/// affine's charges as ir/ops/Conv.cpp's crownConv: Λx sums rounded products
/// (γ_F with F conv's fan-in, termsPerOperand) bounded by |λ_o|·q_o, q_o =
/// Σ_taps |W|·m_x; the bias dot product has numel(out) products.
Function *CrownEmitter::convRule(const Step &s, Mode mode, const std::string &name) {
  const bool crown = mode != Mode::Grad;
  Function *f = createStepFunction(m_, name, crown ? 7 : 2);
  Value *ly = f->getArg(0), *lx = f->getArg(1);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const int64_t nOut = s.out.numel, nIn = s.in[0].numel;
  GlobalVariable *w = pool_.get(s.weight, s.name + ".w");
  GlobalVariable *bias = pool_.get(s.bias, s.name + ".b");
  Value *one = b.getInt64(1);

  Value *c = nullptr, *err = nullptr, *q = nullptr;
  if (crown) {
    c = f->getArg(2);
    err = f->getArg(3);
    q = f->getArg(4);
    Value *xlo = f->getArg(5), *xhi = f->getArg(6);
    AllocaInst *qAcc = accumulator(b, "qacc");
    forEachConvOutput(b, s, one, [&](IRBuilder<> &b, Value *out, Value *, const ConvTapLoop &taps) {
      b.CreateStore(cd(0.0), qAcc);
      taps(b, [&](IRBuilder<> &b, Value *xi, Value *wi) {
        Value *mx = maxMag(b, toDouble(b, loadF32(b, xlo, xi)), toDouble(b, loadF32(b, xhi, xi)));
        Value *wa = fabs(b, toDouble(b, loadF32(b, w, wi)));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f64(), qAcc), b.CreateFMul(wa, mx)), qAcc);
      });
      storeD(b, b.CreateLoad(f64(), qAcc), q, out);
    });
  }
  const double chargeA = chargeOn(RoundingCharge::CrownAffine);
  const double gq = termGamma(s.inValues[0], 1) * chargeA, gb = gammaBound(nOut) * chargeA;
  AllocaInst *cAcc = crown ? accumulator(b, "cacc") : nullptr;
  AllocaInst *sAcc = crown ? accumulator(b, "sacc") : nullptr;
  convLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    Value *lyRow = b.CreateMul(r, b.getInt64(nOut)), *lxRow = b.CreateMul(r, b.getInt64(nIn));
    if (crown) {
      b.CreateStore(cd(0.0), cAcc);
      b.CreateStore(cd(0.0), sAcc);
    }
    forEachConvOutput(b, s, one, [&](IRBuilder<> &b, Value *out, Value *m, const ConvTapLoop &taps) {
      Value *lam = loadD(b, ly, b.CreateAdd(lyRow, out));
      if (crown) {
        Value *bm = toDouble(b, loadF32(b, bias, m));
        reduce(b, cAcc, b.CreateFMul(lam, bm));
        Value *qo = loadD(b, q, out);
        reduce(b, sAcc, b.CreateFMul(fabs(b, lam), b.CreateFAdd(b.CreateFMul(cd(gq), qo),
                                                                 b.CreateFMul(cd(gb), fabs(b, bm)))));
      }
      // Λ is mostly zero behind inactive ReLUs: skip those outputs.
      emitIf(b, b.CreateFCmpUNE(lam, cd(0.0)), "nz", [&] {
        taps(b, [&](IRBuilder<> &b, Value *xi, Value *wi) {
          Value *wv = toDouble(b, loadF32(b, w, wi));
          addD(b, b.CreateFMul(lam, wv), lx, b.CreateAdd(lxRow, xi));
        });
      });
    });
    if (crown) {
      addD(b, b.CreateLoad(f64(), sAcc), err, r);
      addConstant(b, c, err, r, b.CreateLoad(f64(), cAcc));
    }
  });
  b.CreateRetVoid();
  return f;
}

/// Crown: (Ly, Lx, c, err, tmp, xlo, xhi, slopes, rows); grad: (Ly, Lx, xlo,
/// xhi, rows). `slopes`: the caller's lower slopes of the operand, or null.
Function *CrownEmitter::reluRule(const Step &s, Mode mode, const std::string &name) {
  const bool crown = mode != Mode::Grad;
  Function *f = createStepFunction(m_, name, crown ? 8 : 4);
  Value *ly = f->getArg(0), *lx = f->getArg(1);
  Value *xlo = f->getArg(crown ? 5 : 2), *xhi = f->getArg(crown ? 6 : 3);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const int64_t n = s.out.numel;
  // LeakyReLU's slope below 0; 0 for ReLU (Step's default). As
  // ir/ops/Activations.cpp's crownPiecewise: with α = 0 every emitted
  // operation is ReLU's.
  const double alpha = s.alpha;

  if (!crown) {
    // d relu at the point: 1 if l + u > 0 (the midpoint of the point
    // interval, as ir::inputGradient), else 0 (α for LeakyReLU).
    emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
      emitLoop(b, n, "i", [&](IRBuilder<> &b, Value *i) {
        Value *mid = b.CreateFAdd(loadF32(b, xlo, i), loadF32(b, xhi, i));
        Value *pos = b.CreateFCmpOGT(toDouble(b, mid), cd(0.0));
        Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(n)), i);
        Value *lam = loadD(b, ly, idx);
        Value *below = alpha == 0 ? cd(0.0) : b.CreateFMul(lam, cd(alpha));
        addD(b, b.CreateSelect(pos, lam, below), lx, idx);
      });
    });
    b.CreateRetVoid();
    return f;
  }

  Value *tmp = f->getArg(4);
  Value *aArr = tmp, *sArr = dPtr(b, tmp, b.getInt64(n)), *tArr = dPtr(b, tmp, b.getInt64(2 * n)),
        *mArr = dPtr(b, tmp, b.getInt64(3 * n)), *gArr = dPtr(b, tmp, b.getInt64(4 * n));
  // Per neuron: lower slope a, upper slope s, intercept t (0 for stable
  // neurons), magnitude m and the charge g of the product λ·a. Charges
  // (ir::crown): λ·s and parallel λ·a are rounded products (γ_F), λ·1 and
  // λ·0 exact (γ_{F-1}); the intercepts form the rule's n-term constant sum
  // (γ_n), then added into c. With α != 0 the products λ·α round: every
  // term is charged as a product.
  const double gProd = termGamma(s.inValues[0], 1);
  const double gExact = alpha != 0 ? gProd : termGamma(s.inValues[0], 0);
  // The caller's slopes, or (never read then) the operand's lower bounds:
  // one load per neuron either way, no load through null.
  Value *slopes = f->getArg(7);
  Value *given = b.CreateIsNotNull(slopes, "slopes.given");
  Value *slopeSrc = b.CreateSelect(given, slopes, xlo);
  emitLoop(b, n, "relax", [&](IRBuilder<> &b, Value *i) {
    Value *l = toDouble(b, loadF32(b, xlo, i)), *u = toDouble(b, loadF32(b, xhi, i));
    Value *active = b.CreateFCmpOGE(l, cd(0.0));
    Value *inactive = b.CreateFCmpOLE(u, cd(0.0));
    Value *stable = b.CreateOr(active, inactive);
    Value *num = alpha == 0 ? u : b.CreateFSub(u, b.CreateFMul(cd(alpha), l));
    Value *ratio = b.CreateFDiv(num, b.CreateFSub(u, l));
    Value *sl = upRel(b, ratio);
    Value *t = alpha == 0 ? upRel(b, b.CreateFMul(b.CreateFNeg(sl), l))
                          : upRel(b, b.CreateFMul(upRel(b, b.CreateFSub(sl, cd(alpha))),
                                                  b.CreateFNeg(l)));
    // Parallel: the ratio before the outward rounding (any a in [α, 1] is
    // sound), a rounded product; otherwise a in {α, 1} (λ·1 is exact) or
    // the caller's slope clamped to [α, 1] (NaN reads as 1), whose product
    // rounds unless it is α or 1.
    const bool parallel = mode == Mode::CrownParallel;
    Value *adaptive = b.CreateSelect(b.CreateFCmpOGT(u, b.CreateFNeg(l)), cd(1.0), cd(alpha));
    Value *a = ratio, *gA = cd(gProd);
    if (!parallel) {
      Value *clamped = b.CreateBinaryIntrinsic(
          Intrinsic::maxnum, cd(alpha),
          b.CreateBinaryIntrinsic(Intrinsic::minnum, cd(1.0),
                                  toDouble(b, loadF32(b, slopeSrc, i))));
      a = b.CreateSelect(given, clamped, adaptive);
      Value *exact = b.CreateOr(b.CreateFCmpOEQ(a, cd(1.0)), b.CreateFCmpOEQ(a, cd(alpha)));
      gA = b.CreateSelect(exact, cd(gExact), cd(gProd));
    }
    Value *stableSlope = b.CreateSelect(active, cd(1.0), cd(alpha));
    storeD(b, b.CreateSelect(stable, stableSlope, a), aArr, i);
    storeD(b, b.CreateSelect(stable, stableSlope, sl), sArr, i);
    storeD(b, b.CreateSelect(stable, cd(0.0), t), tArr, i);
    storeD(b, maxMag(b, l, u), mArr, i);
    storeD(b, b.CreateSelect(stable, cd(gExact), gA), gArr, i);
  }, LoopHint::Scalar);
  b.CreateCall(reluApply(s), {f->getArg(0), f->getArg(1), f->getArg(2), f->getArg(3), tmp, rows});
  b.CreateRetVoid();
  return f;
}

/// (Ly, Lx, c, err, tmp, rows): the row loop of a ReLU rule over the
/// per-neuron a, s, t, m, g its relax loop wrote to tmp; one function for
/// both lower slopes (the parallel pass only writes other a and g).
Function *CrownEmitter::reluApply(const Step &s) {
  const int64_t n = s.out.numel;
  const double gProd = termGamma(s.inValues[0], 1);
  const double gExact = s.alpha != 0 ? gProd : termGamma(s.inValues[0], 0);
  auto key = std::make_tuple(n, gProd, gExact);
  if (auto it = reluApply_.find(key); it != reluApply_.end())
    return it->second;
  Function *f = createStepFunction(m_, prefix_ + "_crown.relu.apply." + s.name, 5);
  Value *ly = f->getArg(0), *lx = f->getArg(1), *c = f->getArg(2), *err = f->getArg(3);
  Value *tmp = f->getArg(4), *rows = f->getArg(5);
  IRBuilder<> b(&f->getEntryBlock());
  Value *aArr = tmp, *sArr = dPtr(b, tmp, b.getInt64(n)), *tArr = dPtr(b, tmp, b.getInt64(2 * n)),
        *mArr = dPtr(b, tmp, b.getInt64(3 * n)), *gArr = dPtr(b, tmp, b.getInt64(4 * n));
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownReluSum);
  AllocaInst *cAcc = accumulator(b, "cacc"), *eAcc = accumulator(b, "eacc");
  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    b.CreateStore(cd(0.0), cAcc);
    b.CreateStore(cd(0.0), eAcc);
    emitLoop(b, n, "i", [&](IRBuilder<> &b, Value *i) {
      Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(n)), i);
      Value *lam = loadD(b, ly, idx);
      Value *neg = b.CreateFCmpOLT(lam, cd(0.0));
      Value *ls = b.CreateFMul(lam, loadD(b, sArr, i));
      Value *la = b.CreateFMul(lam, loadD(b, aArr, i));
      addD(b, b.CreateSelect(neg, ls, la), lx, idx);
      Value *lt = b.CreateFMul(lam, loadD(b, tArr, i));
      reduce(b, cAcc, b.CreateSelect(neg, lt, cd(0.0)));
      // The stable neurons' products λ·1 and λ·0 are exact; so is λ·a for a
      // in {0, 1} (not parallel).
      Value *mi = loadD(b, mArr, i);
      Value *stableN = b.CreateFCmpOEQ(loadD(b, tArr, i), cd(0.0));
      Value *gNeg = b.CreateSelect(stableN, cd(gExact), cd(gProd));
      Value *gPos = loadD(b, gArr, i);
      Value *e = b.CreateFAdd(b.CreateFMul(b.CreateFMul(gNeg, fabs(b, ls)), mi),
                              b.CreateFMul(cd(gSum), fabs(b, lt)));
      Value *ePos = b.CreateFMul(b.CreateFMul(gPos, fabs(b, la)), mi);
      reduce(b, eAcc, b.CreateSelect(neg, e, ePos));
    });
    addD(b, b.CreateLoad(f64(), eAcc), err, r);
    addConstant(b, c, err, r, b.CreateLoad(f64(), cAcc));
  });
  b.CreateRetVoid();
  reluApply_[key] = f;
  return f;
}

/// `void gamma_scalar_relax(i32 fn, double l, double u, double margin, ptr out)`
/// of abi/ScalarRelax.h: the one implementation of the scalar relaxations,
/// an object that every JIT session and every gammac library links
/// (codegen/ScalarRelaxObject.h), the same machine code ir::crown runs.
Function *CrownEmitter::scalarRelax() {
  if (relax_)
    return relax_;
  Type *ptr = PointerType::getUnqual(ctx_);
  auto *fty = FunctionType::get(Type::getVoidTy(ctx_),
                                {Type::getInt32Ty(ctx_), f64(), f64(), f64(), ptr}, false);
  Function *f = Function::Create(fty, GlobalValue::ExternalLinkage, "gamma_scalar_relax", m_);
  f->setVisibility(GlobalValue::HiddenVisibility);
  f->addFnAttr(Attribute::NoUnwind);
  relax_ = f;
  return f;
}

/// Crown: (Ly, Lx, c, err, tmp, xlo, xhi, rows); grad: (Ly, Lx, xlo, xhi, rows).
/// The lines of ir/SigmoidRelaxation by the sign of λ, as ir::crown.
Function *CrownEmitter::scalarRule(const Step &s, Mode mode, const std::string &name) {
  const bool crown = mode != Mode::Grad;
  Function *f = createStepFunction(m_, name, crown ? 7 : 4);
  Value *ly = f->getArg(0), *lx = f->getArg(1);
  Value *xlo = f->getArg(crown ? 5 : 2), *xhi = f->getArg(crown ? 6 : 3);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const int64_t n = s.out.numel;

  if (!crown) {
    // f'(x) at the midpoint of the point interval, the table's slope (the
    // object ir::inputGradient calls).
    FunctionCallee slopeFn = declareScalarTableFn(m_, "gamma_scalar_slope");
    Value *fn = b.getInt32(s.scalarFn);
    emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
      emitLoop(b, n, "i", [&](IRBuilder<> &b, Value *i) {
        Value *x = b.CreateFMul(cd(0.5), b.CreateFAdd(toDouble(b, loadF32(b, xlo, i)),
                                                      toDouble(b, loadF32(b, xhi, i))));
        Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(n)), i);
        addD(b, b.CreateFMul(loadD(b, ly, idx), b.CreateCall(slopeFn, {fn, x})), lx, idx);
      });
    });
    b.CreateRetVoid();
    return f;
  }

  // Per neuron: the two lines (4 doubles at tmp + 4i) and the magnitude m.
  // Charges as ir::crown: λ·slope γ_F, the n-term intercept sum γ_n.
  const double gProd = termGamma(s.inValues[0], 1);
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownSigmoidSum);
  Value *c = f->getArg(2), *err = f->getArg(3), *tmp = f->getArg(4);
  Value *mArr = dPtr(b, tmp, b.getInt64(4 * n));
  Function *relax = scalarRelax();
  Value *fn = b.getInt32(s.scalarFn);
  Value *margin = cd(chargeOn(RoundingCharge::ScalarLines));
  emitLoop(b, n, "relax", [&](IRBuilder<> &b, Value *i) {
    Value *l = toDouble(b, loadF32(b, xlo, i)), *u = toDouble(b, loadF32(b, xhi, i));
    b.CreateCall(relax, {fn, l, u, margin, dPtr(b, tmp, b.CreateMul(i, b.getInt64(4)))});
    storeD(b, maxMag(b, l, u), mArr, i);
  });
  AllocaInst *cAcc = accumulator(b, "cacc"), *eAcc = accumulator(b, "eacc");
  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    b.CreateStore(cd(0.0), cAcc);
    b.CreateStore(cd(0.0), eAcc);
    emitLoop(b, n, "i", [&](IRBuilder<> &b, Value *i) {
      Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(n)), i);
      Value *lam = loadD(b, ly, idx);
      Value *neg = b.CreateFCmpOLT(lam, cd(0.0));
      Value *base = b.CreateMul(i, b.getInt64(4));
      Value *slope = b.CreateSelect(neg, loadD(b, tmp, b.CreateAdd(base, b.getInt64(2))),
                                    loadD(b, tmp, base));
      Value *icpt = b.CreateSelect(neg, loadD(b, tmp, b.CreateAdd(base, b.getInt64(3))),
                                   loadD(b, tmp, b.CreateAdd(base, b.getInt64(1))));
      Value *la = b.CreateFMul(lam, slope), *lb = b.CreateFMul(lam, icpt);
      addD(b, la, lx, idx);
      reduce(b, cAcc, lb);
      reduce(b, eAcc, b.CreateFAdd(b.CreateFMul(b.CreateFMul(cd(gProd), fabs(b, la)), loadD(b, mArr, i)),
                                   b.CreateFMul(cd(gSum), fabs(b, lb))));
    });
    addD(b, b.CreateLoad(f64(), eAcc), err, r);
    addConstant(b, c, err, r, b.CreateLoad(f64(), cAcc));
  });
  b.CreateRetVoid();
  return f;
}

/// Crown: (Ly, Lx, c, err, tmp, xlo, xhi, rows); grad: (Ly, Lx, rows).
Function *CrownEmitter::binaryConstRule(const Step &s, Mode mode, const std::string &name) {
  const bool crown = mode != Mode::Grad;
  Function *f = createStepFunction(m_, name, crown ? 7 : 2);
  Value *ly = f->getArg(0), *lx = f->getArg(1);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  GlobalVariable *cst = pool_.get(s.constant, s.name + ".c");
  const int64_t numel = s.outer * s.mid * s.inner;
  const bool additive = s.bin == BinOp::Add || s.bin == BinOp::Sub;
  // x - C: C enters with sign -1; C - x: x does.
  const bool negConst = s.bin == BinOp::Sub && !s.constOnLeft;
  const bool negX = s.bin == BinOp::Sub && s.constOnLeft;
  AllocaInst *cAcc = crown ? accumulator(b, "cacc") : nullptr;
  AllocaInst *eAcc = crown ? accumulator(b, "eacc") : nullptr;
  AllocaInst *fAcc = crown ? accumulator(b, "facc") : nullptr;
  const double gFan = termGamma(s.inValues[0], 0);
  const double gScaled = termGamma(s.inValues[0], s.bin == BinOp::Div ? 2 : 1);

  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    if (crown) {
      b.CreateStore(cd(0.0), cAcc);
      b.CreateStore(cd(0.0), eAcc);
      b.CreateStore(cd(0.0), fAcc);
    }
    emitLoop(b, s.outer, "o", [&](IRBuilder<> &b, Value *o) {
      emitLoop(b, s.mid, "m", [&](IRBuilder<> &b, Value *mi) {
        Value *cv = toDouble(b, loadF32(b, cst, mi));
        Value *base = b.CreateMul(b.CreateAdd(b.CreateMul(o, b.getInt64(s.mid)), mi),
                                  b.getInt64(s.inner));
        emitLoop(b, s.inner, "in", [&](IRBuilder<> &b, Value *ii) {
          Value *e = b.CreateAdd(base, ii);
          Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(numel)), e);
          Value *lam = loadD(b, ly, idx);
          if (additive) {
            addD(b, negX ? b.CreateFNeg(lam) : lam, lx, idx);
            if (crown) {
              reduce(b, cAcc, b.CreateFMul(lam, cv));
              reduce(b, eAcc, b.CreateFMul(fabs(b, lam), fabs(b, cv)));
              // The exact term ±λ summed with x's other consumers' terms.
              if (gFan > 0) {
                Value *xlo = f->getArg(5), *xhi = f->getArg(6);
                Value *mx = maxMag(b, toDouble(b, loadF32(b, xlo, e)), toDouble(b, loadF32(b, xhi, e)));
                reduce(b, fAcc, b.CreateFMul(fabs(b, lam), mx));
              }
            }
            return;
          }
          if (!crown) {
            // ir::inputGradient divides by the constant.
            addD(b, s.bin == BinOp::Div ? b.CreateFDiv(lam, cv) : b.CreateFMul(lam, cv), lx, idx);
            return;
          }
          // ir::crown multiplies by the reciprocal.
          Value *k = s.bin == BinOp::Div ? b.CreateFDiv(cd(1.0), cv) : cv;
          Value *scaled = b.CreateFMul(lam, k);
          addD(b, scaled, lx, idx);
          Value *xlo = f->getArg(5), *xhi = f->getArg(6);
          Value *mx = maxMag(b, toDouble(b, loadF32(b, xlo, e)), toDouble(b, loadF32(b, xhi, e)));
          reduce(b, eAcc, b.CreateFMul(fabs(b, scaled), mx));
        });
      });
    });
    if (!crown)
      return;
    Value *c = f->getArg(2), *err = f->getArg(3);
    if (additive) {
      Value *sum = b.CreateLoad(f64(), cAcc);
      addD(b, b.CreateFMul(cd(gammaBound(numel)), b.CreateLoad(f64(), eAcc)), err, r);
      if (gFan > 0)
        addD(b, b.CreateFMul(cd(gFan), b.CreateLoad(f64(), fAcc)), err, r);
      addConstant(b, c, err, r, negConst ? b.CreateFNeg(sum) : sum);
    } else {
      // One rounding per coefficient (two for the reciprocal) and the sum
      // with x's other consumers' terms.
      addD(b, b.CreateFMul(cd(gScaled), b.CreateLoad(f64(), eAcc)), err, r);
    }
  });
  b.CreateRetVoid();
  return f;
}

/// Neg, copy and x ± y: (Ly, Lx..., rows), one Lx per distinct operand value;
/// with linearCharged (crown modes): (Ly, Lx..., c, err, tmp, lo/hi of each
/// distinct operand, rows). The terms ±λ are exact; summed with the other
/// consumers' terms of an operand v they err by γ_{F_v - 1}·|λ|·m_v.
Function *CrownEmitter::linearRule(const Step &s, Mode mode, const std::string &name) {
  const bool twoOperands = s.inValues.size() == 2; // x ± y
  const bool sameOperand = twoOperands && s.inValues[0] == s.inValues[1];
  const unsigned nLx = twoOperands && !sameOperand ? 2 : 1;
  const bool charged = mode != Mode::Grad && linearCharged(s);
  Function *f = createStepFunction(m_, name, 1 + nLx + (charged ? 3 + 2 * nLx : 0));
  Value *ly = f->getArg(0);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const int64_t n = s.out.numel;
  emitLoop(b, b.getInt64(0), b.CreateMul(rows, b.getInt64(n)), 1, "i",
           [&](IRBuilder<> &b, Value *i) {
             Value *lam = loadD(b, ly, i);
             if (s.kind == StepKind::Neg) {
               addD(b, b.CreateFNeg(lam), f->getArg(1), i);
               return;
             }
             addD(b, lam, f->getArg(1), i);
             if (twoOperands) {
               Value *second = s.bin == BinOp::Sub ? b.CreateFNeg(lam) : lam;
               addD(b, second, f->getArg(sameOperand ? 1 : 2), i);
             }
           });
  if (charged) {
    Value *err = f->getArg(1 + nLx + 1);
    AllocaInst *acc = accumulator(b, "facc");
    emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
      b.CreateStore(cd(0.0), acc);
      emitLoop(b, n, "e", [&](IRBuilder<> &b, Value *e) {
        Value *lam = fabs(b, loadD(b, ly, b.CreateAdd(b.CreateMul(r, b.getInt64(n)), e)));
        for (unsigned j = 0; j < nLx; ++j) {
          // x + x: λ twice into the one operand.
          double g = termGamma(s.inValues[j], 0) * (sameOperand ? 2.0 : 1.0);
          if (g == 0)
            continue;
          Value *lo = f->getArg(1 + nLx + 3 + 2 * j), *hi = f->getArg(1 + nLx + 3 + 2 * j + 1);
          Value *mx = maxMag(b, toDouble(b, loadF32(b, lo, e)), toDouble(b, loadF32(b, hi, e)));
          reduce(b, acc, b.CreateFMul(cd(g), b.CreateFMul(lam, mx)));
        }
      });
      addD(b, b.CreateLoad(f64(), acc), err, r);
    });
  }
  b.CreateRetVoid();
  return f;
}

/// Crown, charged: (Ly, Lx_1..Lx_D, c, err, tmp, lo_1, hi_1, ..., lo_D, hi_D,
/// rows); otherwise (Ly, Lx_1..Lx_D, rows), one Λ per distinct operand. As
/// ir/ops/Views.cpp's crownGather: Λ's column i moves to its source (exact
/// terms; a shared operand's γ_{F-1}·|λ|·m_x), the constants' columns join c
/// as one dot product per row (γ_m·Σ|λ·C|, m constants).
Function *CrownEmitter::gatherRule(const Step &s, Mode mode, const std::string &name) {
  const std::vector<int32_t> distinct = s.distinctInValues();
  const unsigned nd = static_cast<unsigned>(distinct.size());
  const bool charged = mode != Mode::Grad && linearCharged(s);
  Function *f = createStepFunction(m_, name, 1 + nd + (charged ? 3 + 2 * nd : 0));
  Value *ly = f->getArg(0);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const std::vector<GatherBlock> &blocks = s.gatherBlocks;
  GlobalVariable *table = pool_.get(s.gatherIndex, s.name + ".idx");
  auto index = [&](IRBuilder<> &b, int64_t at, Value *j) { return loadIndex(b, table, at, j); };
  const int64_t n = s.out.numel;
  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    Value *rowY = b.CreateMul(r, b.getInt64(n));
    for (unsigned k = 0; k < nd; ++k) {
      const GatherBlock &g = blocks[k];
      Value *lx = f->getArg(1 + k);
      Value *rowX = b.CreateMul(r, b.getInt64(lay_.numel[distinct[k]]));
      if (g.contiguous) {
        emitLoop(b, g.count, "copy", [&](IRBuilder<> &b, Value *j) {
          Value *lam = loadD(b, ly, b.CreateAdd(rowY, b.CreateAdd(b.getInt64(g.dst0), j)));
          addD(b, lam, lx, b.CreateAdd(rowX, b.CreateAdd(b.getInt64(g.src0), j)));
        });
        continue;
      }
      emitLoop(b, g.count, "scatter", [&](IRBuilder<> &b, Value *j) {
        Value *lam = loadD(b, ly, b.CreateAdd(rowY, index(b, g.dstAt, j)));
        addD(b, lam, lx, b.CreateAdd(rowX, index(b, g.srcAt, j)));
      });
    }
  });
  if (charged) {
    Value *c = f->getArg(1 + nd), *err = f->getArg(2 + nd);
    const GatherBlock &cb = blocks.back();
    GlobalVariable *cst = cb.count > 0 ? pool_.get(s.constant, s.name + ".c") : nullptr;
    AllocaInst *eAcc = accumulator(b, "gerr"), *cAcc = accumulator(b, "gc");
    AllocaInst *mAcc = accumulator(b, "gm");
    emitLoop(b, b.getInt64(0), rows, 1, "rc", [&](IRBuilder<> &b, Value *r) {
      Value *rowY = b.CreateMul(r, b.getInt64(n));
      for (AllocaInst *a : {eAcc, cAcc, mAcc})
        b.CreateStore(cd(0.0), a);
      for (unsigned k = 0; k < nd; ++k) {
        const double g = termGamma(distinct[k], 0);
        const GatherBlock &gb = blocks[k];
        if (g == 0 || gb.count == 0)
          continue;
        Value *lo = f->getArg(1 + nd + 3 + 2 * k), *hi = f->getArg(1 + nd + 3 + 2 * k + 1);
        emitLoop(b, gb.count, "fan", [&](IRBuilder<> &b, Value *j) {
          Value *lam = fabs(b, loadD(b, ly, b.CreateAdd(rowY, index(b, gb.dstAt, j))));
          Value *src = index(b, gb.srcAt, j);
          Value *mx = maxMag(b, toDouble(b, loadF32(b, lo, src)), toDouble(b, loadF32(b, hi, src)));
          reduce(b, eAcc, b.CreateFMul(cd(g), b.CreateFMul(lam, mx)));
        });
      }
      if (cb.count > 0) {
        emitLoop(b, cb.count, "const", [&](IRBuilder<> &b, Value *j) {
          Value *lam = loadD(b, ly, b.CreateAdd(rowY, index(b, cb.dstAt, j)));
          Value *t = b.CreateFMul(lam, toDouble(b, loadF32(b, cst, j)));
          reduce(b, cAcc, t);
          reduce(b, mAcc, fabs(b, t));
        });
      }
      Value *e = b.CreateFAdd(b.CreateLoad(f64(), eAcc),
                              b.CreateFMul(cd(gammaBound(cb.count)), b.CreateLoad(f64(), mAcc)));
      addD(b, e, err, r);
      if (cb.count > 0)
        addConstant(b, c, err, r, b.CreateLoad(f64(), cAcc));
    });
  }
  b.CreateRetVoid();
  return f;
}

/// Crown: (Ly, La, Lb, c, err, tmp, alo, ahi, blo, bhi, rows); grad: (Ly, La,
/// Lb, a, a, b, b, rows) with the point's values. As ir/ops/Activations.cpp's
/// crownMax, operation for operation: per neuron, d = b - a in
/// [down(lb - ua), up(ub - la)]; stable: y = b or y = a; unstable: lower
/// line the operand b (ud > -ld) or a, upper line (1 - s)·a + s·b + t. The
/// relax loop writes both lines, m_a, m_b and the upper line's charges to
/// tmp; the row loop takes the lower line for λ >= 0, the upper for λ < 0.
Function *CrownEmitter::maxRule(const Step &s, Mode mode, const std::string &name) {
  const bool crown = mode != Mode::Grad;
  Function *f = createStepFunction(m_, name, 3 + (crown ? 3 : 0) + 4);
  Value *ly = f->getArg(0), *la = f->getArg(1), *lb = f->getArg(2);
  const unsigned bo = crown ? 6 : 3; // first bounds argument
  Value *alo = f->getArg(bo), *ahi = f->getArg(bo + 1), *blo = f->getArg(bo + 2),
        *bhi = f->getArg(bo + 3);
  Value *rows = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const int64_t n = s.out.numel;
  if (!crown) {
    // The adjoint to the larger operand (to a at a tie), as ir's gradMax.
    emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
      emitLoop(b, n, "i", [&](IRBuilder<> &b, Value *i) {
        Value *toB = b.CreateFCmpOLT(loadF32(b, alo, i), loadF32(b, blo, i));
        Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(n)), i);
        Value *lam = loadD(b, ly, idx);
        addD(b, b.CreateSelect(toB, cd(0.0), lam), la, idx);
        addD(b, b.CreateSelect(toB, lam, cd(0.0)), lb, idx);
      });
    });
    b.CreateRetVoid();
    return f;
  }
  Value *c = f->getArg(3), *err = f->getArg(4), *tmp = f->getArg(5);
  auto arr = [&](int k) { return dPtr(b, tmp, b.getInt64(k * n)); };
  Value *wLa = arr(0), *wLb = arr(1), *uLa = arr(2), *uLb = arr(3), *uT = arr(4), *mA = arr(5),
        *mB = arr(6), *gUa = arr(7), *gUb = arr(8);
  const int32_t va = s.inValues[0], vb = s.inValues[1];
  const double gProdA = termGamma(va, 1), gExactA = termGamma(va, 0);
  const double gProdB = termGamma(vb, 1), gExactB = termGamma(vb, 0);
  const double gSum = gammaBound(n) * chargeOn(RoundingCharge::CrownReluSum);
  emitLoop(b, n, "relax", [&](IRBuilder<> &b, Value *i) {
    Value *al = toDouble(b, loadF32(b, alo, i)), *ah = toDouble(b, loadF32(b, ahi, i));
    Value *bl = toDouble(b, loadF32(b, blo, i)), *bh = toDouble(b, loadF32(b, bhi, i));
    Value *ld = downRel(b, b.CreateFSub(bl, ah)), *ud = upRel(b, b.CreateFSub(bh, al));
    Value *ma = maxMag(b, al, ah), *mb = maxMag(b, bl, bh);
    Value *isB = b.CreateFCmpOGE(ld, cd(0.0)), *isA = b.CreateFCmpOLE(ud, cd(0.0));
    Value *stable = b.CreateOr(isB, isA);
    Value *sl = upRel(b, b.CreateFDiv(ud, b.CreateFSub(ud, ld)));
    Value *ca = b.CreateFSub(cd(1.0), sl);
    // ir/Rounding.h's maxLines, operation for operation.
    const double coefCharge = 2 * kU * chargeOn(RoundingCharge::MaxCoefficient);
    Value *t = upRel(b, b.CreateFAdd(upRel(b, b.CreateFMul(b.CreateFNeg(sl), ld)),
                                     b.CreateFMul(b.CreateFMul(cd(coefCharge), fabs(b, ca)), ma)));
    Value *takeB = b.CreateSelect(stable, isB, b.CreateFCmpOGT(ud, b.CreateFNeg(ld)));
    Value *one = cd(1.0), *zero = cd(0.0);
    // Stable: both lines are the one operand.
    Value *stA = b.CreateSelect(isB, zero, one), *stB = b.CreateSelect(isB, one, zero);
    storeD(b, b.CreateSelect(takeB, zero, one), wLa, i);
    storeD(b, b.CreateSelect(takeB, one, zero), wLb, i);
    storeD(b, b.CreateSelect(stable, stA, ca), uLa, i);
    storeD(b, b.CreateSelect(stable, stB, sl), uLb, i);
    storeD(b, b.CreateSelect(stable, zero, t), uT, i);
    storeD(b, ma, mA, i);
    storeD(b, mb, mB, i);
    storeD(b, b.CreateSelect(stable, cd(gExactA), cd(gProdA)), gUa, i);
    storeD(b, b.CreateSelect(stable, cd(gExactB), cd(gProdB)), gUb, i);
  }, LoopHint::Scalar);
  AllocaInst *cAcc = accumulator(b, "cacc"), *eAcc = accumulator(b, "eacc");
  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    b.CreateStore(cd(0.0), cAcc);
    b.CreateStore(cd(0.0), eAcc);
    emitLoop(b, n, "i", [&](IRBuilder<> &b, Value *i) {
      Value *idx = b.CreateAdd(b.CreateMul(r, b.getInt64(n)), i);
      Value *lam = loadD(b, ly, idx);
      Value *neg = b.CreateFCmpOLT(lam, cd(0.0));
      Value *ka = b.CreateSelect(neg, loadD(b, uLa, i), loadD(b, wLa, i));
      Value *kb = b.CreateSelect(neg, loadD(b, uLb, i), loadD(b, wLb, i));
      Value *pa = b.CreateFMul(lam, ka), *pb = b.CreateFMul(lam, kb);
      addD(b, pa, la, idx);
      addD(b, pb, lb, idx);
      Value *lt = b.CreateFMul(lam, loadD(b, uT, i));
      reduce(b, cAcc, b.CreateSelect(neg, lt, cd(0.0)));
      Value *ga = b.CreateSelect(neg, loadD(b, gUa, i), cd(gExactA));
      Value *gb = b.CreateSelect(neg, loadD(b, gUb, i), cd(gExactB));
      Value *e = b.CreateFAdd(b.CreateFMul(b.CreateFMul(ga, fabs(b, pa)), loadD(b, mA, i)),
                              b.CreateFMul(b.CreateFMul(gb, fabs(b, pb)), loadD(b, mB, i)));
      e = b.CreateFAdd(e, b.CreateSelect(neg, b.CreateFMul(cd(gSum), fabs(b, lt)), cd(0.0)));
      reduce(b, eAcc, e);
    });
    addD(b, b.CreateLoad(f64(), eAcc), err, r);
    addConstant(b, c, err, r, b.CreateLoad(f64(), cAcc));
  });
  b.CreateRetVoid();
  return f;
}

/// (slice, xlo, xhi, coefs, slopes, rows): Λ of the target is in place; runs
/// the rules back to the input. Crown: lower[r] (double, margins included) at
/// Dyn::lower and, if coefs is not null, the input coefficients (f32);
/// `slopes`: the box's lower_slopes (abi/KernelAbi.def) or null.
Function *CrownEmitter::pass(const CrownPass &p, Mode mode) {
  auto key = std::make_pair(p.target, mode);
  if (auto it = passes_.find(key); it != passes_.end())
    return it->second;
  const bool crown = mode != Mode::Grad;
  std::string name = prefix_ + modeName(mode) + ".pass." + std::to_string(p.target);
  Function *f = createStepFunction(m_, name, 5);
  Slice sl{f->getArg(0), f->getArg(1), f->getArg(2)};
  Value *coefs = f->getArg(3), *slopes = f->getArg(4), *rows = f->getArg(5);
  IRBuilder<> b(&f->getEntryBlock());
  Dyn d = dyn(b, sl.base, rows);
  Value *tmp = floatAt(b, sl.base, lay_.tmpOff);
  if (crown) {
    zeroDoubles(b, d.c, rows);
    zeroDoubles(b, d.err, rows, ir::kUnderflowCharge); // ir/Rounding.h
  }
  auto zeroBorn = [&](size_t pos) {
    for (int32_t v : p.bornAt[pos])
      zeroDoubles(b, lamOf(b, d, p, v), b.CreateMul(rows, b.getInt64(lay_.numel[v])));
  };
  for (size_t pos = 0; pos < p.steps.size(); ++pos) {
    zeroBorn(pos);
    const Step &s = plan_.steps[p.steps[pos]];
    Function *fn = rule(p.steps[pos], mode);
    // Operands are passed once per distinct value (x + x: one Λx).
    SmallVector<int32_t, 2> operands;
    for (int32_t v : s.inValues)
      if (std::find(operands.begin(), operands.end(), v) == operands.end())
        operands.push_back(v);
    SmallVector<Value *, 9> args = {lamOf(b, d, p, s.outValue)};
    for (int32_t v : operands)
      args.push_back(lamOf(b, d, p, v));
    const StepRecord &rec = stepRecord(s);
    bool activation = rec.relaxed();
    bool withBounds = rec.ruleTakesBounds;
    bool linear = !withBounds;
    const bool operandBounds = rec.ruleTakesOperandBounds || (crown && linear && linearCharged(s));
    if (crown && (withBounds || operandBounds))
      args.append({d.c, d.err, tmp});
    // Grad: the forward pass wrote the point's values into the lo slots.
    if (withBounds && (crown || activation))
      args.append({boundsLo(b, sl, s.inValues[0]),
                   crown ? boundsHi(b, sl, s.inValues[0]) : boundsLo(b, sl, s.inValues[0])});
    if (operandBounds)
      for (int32_t v : operands)
        args.append({boundsLo(b, sl, v), crown ? boundsHi(b, sl, v) : boundsLo(b, sl, v)});
    if (crown && rec.takesLowerSlopes)
      args.push_back(slopesOf(b, slopes, s.inValues[0]));
    args.push_back(rows);
    b.CreateCall(fn, args);
  }
  zeroBorn(p.steps.size());

  if (crown)
    b.CreateCall(concretise(), {lamOf(b, d, p, plan_.inputValue), sl.xlo, sl.xhi, d.c, d.err,
                                d.lower, coefs, rows});
  b.CreateRetVoid();
  passes_[key] = f;
  return f;
}

/// (lin, xlo, xhi, c, err, lower, coefs, rows): the end of every crown pass,
/// one function for all of them: Λ_in·x over the box into lower[r] (double,
/// margins included) and, if coefs is not null, the linear bound (f32).
Function *CrownEmitter::concretise() {
  if (concretise_)
    return concretise_;
  Function *f = createStepFunction(m_, prefix_ + "_crown.concretise", 7);
  Value *lin = f->getArg(0);
  Slice sl{nullptr, f->getArg(1), f->getArg(2)};
  Dyn d{f->getArg(3), f->getArg(4), f->getArg(5), nullptr, f->getArg(7)};
  Value *coefs = f->getArg(6), *rows = f->getArg(7);
  rows->setName("rows");
  IRBuilder<> b(&f->getEntryBlock());
  // Λ·x >= Λ·xc - |Λ|·xr over the box; err += γ_{2n+2}·(|Λ|·(|xc| + xr) + |c|).
  const int64_t nIn = plan_.inputSize;
  AllocaInst *vAcc = accumulator(b, "vacc"), *mAcc = accumulator(b, "macc");
  AllocaInst *tAcc = accumulator(b, "tacc");
  emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
    Value *row = b.CreateMul(r, b.getInt64(nIn));
    b.CreateStore(cd(0.0), vAcc);
    b.CreateStore(cd(0.0), mAcc);
    emitLoop(b, nIn, "k", [&](IRBuilder<> &b, Value *k) {
      Value *lam = loadD(b, lin, b.CreateAdd(row, k));
      Value *lo = toDouble(b, loadF32(b, sl.xlo, k)), *hi = toDouble(b, loadF32(b, sl.xhi, k));
      Value *xc = b.CreateFMul(b.CreateFAdd(lo, hi), cd(0.5));
      Value *xr = b.CreateFMul(b.CreateFSub(hi, lo), cd(0.5));
      Value *al = fabs(b, lam);
      reduce(b, vAcc, b.CreateFSub(b.CreateFMul(lam, xc), b.CreateFMul(al, xr)));
      reduce(b, mAcc, b.CreateFMul(al, b.CreateFAdd(fabs(b, xc), xr)));
    });
    Value *c = loadD(b, d.c, r);
    Value *val = b.CreateFAdd(b.CreateLoad(f64(), vAcc), c);
    Value *mag = b.CreateFAdd(b.CreateLoad(f64(), mAcc), fabs(b, c));
    Value *e = b.CreateFAdd(
        loadD(b, d.err, r),
        b.CreateFMul(cd(gammaBound(2 * nIn + 4) * chargeOn(RoundingCharge::CrownConcretise)), mag));
    Value *res = b.CreateFSub(val, b.CreateFMul(e, cd(1 + 1e-9)));
    res = b.CreateSelect(b.CreateFCmpUNO(res, res),
                         cd(-std::numeric_limits<double>::infinity()), res);
    storeD(b, res, d.lower, r);
    // The linear bound itself, f(x)_r >= a·x + off on the box: a = f32(Λ),
    // off = c - err - Σ|Λ - a|·m_x (the coefficients' rounding) - 4u·|c|.
    emitIf(b, b.CreateIsNotNull(coefs), "coefs", [&] {
      Value *rowC = b.CreateMul(r, b.getInt64(nIn + 1));
      b.CreateStore(cd(0.0), tAcc);
      emitLoop(b, nIn, "kc", [&](IRBuilder<> &b, Value *k) {
        Value *lam = loadD(b, lin, b.CreateAdd(row, k));
        Value *a = b.CreateFPTrunc(lam, b.getFloatTy());
        storeF32(b, a, coefs, b.CreateAdd(rowC, k));
        Value *mx = maxMag(b, toDouble(b, loadF32(b, sl.xlo, k)), toDouble(b, loadF32(b, sl.xhi, k)));
        reduce(b, tAcc, b.CreateFMul(fabs(b, b.CreateFSub(lam, toDouble(b, a))), mx));
      });
      Value *slack = b.CreateFAdd(b.CreateFAdd(loadD(b, d.err, r), b.CreateLoad(f64(), tAcc)),
                                  b.CreateFMul(cd(4 * kU), fabs(b, c)));
      Value *off = b.CreateFSub(c, b.CreateFMul(slack, cd(1 + 1e-9)));
      storeF32(b, roundDown(b, off), coefs, b.CreateAdd(rowC, b.getInt64(nIn)));
    });
  });
  b.CreateRetVoid();
  concretise_ = f;
  return f;
}

/// The three loops of a tightening, each one function for every target (the
/// neuron count is an argument): they run once per layer and box, next to
/// the backward pass's rows × numel work, and in one copy they keep the
/// forward function's code linear in the number of layers.
///   unstable(lo, hi, idx, n, all) -> U: branch-free compaction of the
///     indices with l < 0 < u (all of them if `all`);
///   spec(lam, idx, U, n): Λ = (e_i; -e_i) over the U indices (2U rows);
///   update(lo, hi, idx, lower, U): the bounds intersected with the pass's
///     (std::max(lo, l) and std::min(hi, h), as ir::crown).
Function *CrownEmitter::tightenHelper(int which) {
  if (tightenFns_[which])
    return tightenFns_[which];
  Type *ptr = PointerType::getUnqual(ctx_), *i64 = Type::getInt64Ty(ctx_);
  Function *f = nullptr;
  if (which == 0) {
    auto *fty = FunctionType::get(i64, {ptr, ptr, ptr, i64, i64}, false);
    f = Function::Create(fty, GlobalValue::InternalLinkage, prefix_ + "_crown.unstable", m_);
  } else if (which == 1) {
    auto *fty = FunctionType::get(Type::getVoidTy(ctx_), {ptr, ptr, i64, i64}, false);
    f = Function::Create(fty, GlobalValue::InternalLinkage, prefix_ + "_crown.spec", m_);
  } else {
    f = createStepFunction(m_, prefix_ + "_crown.update", 4);
    f->getArg(4)->setName("U");
  }
  for (unsigned i = 0; i < f->arg_size(); ++i)
    if (f->getArg(i)->getType()->isPointerTy()) {
      f->addParamAttr(i, Attribute::NoAlias);
      f->addParamAttr(i, Attribute::NoCapture);
    }
  f->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(f->empty() ? BasicBlock::Create(ctx_, "entry", f) : &f->getEntryBlock());
  if (which == 0) {
    Value *lo = f->getArg(0), *hi = f->getArg(1), *idx = f->getArg(2), *n = f->getArg(3);
    Value *all = b.CreateICmpNE(f->getArg(4), b.getInt64(0));
    AllocaInst *count = b.CreateAlloca(i64, nullptr, "unstable");
    b.CreateStore(b.getInt64(0), count);
    emitLoop(b, b.getInt64(0), n, 1, "unst", [&](IRBuilder<> &b, Value *i) {
      Value *l = loadF32(b, lo, i), *u = loadF32(b, hi, i);
      Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
      Value *uns = b.CreateOr(all, b.CreateAnd(b.CreateFCmpOLT(l, zero), b.CreateFCmpOGT(u, zero)));
      Value *cnt = b.CreateLoad(i64, count);
      b.CreateAlignedStore(i, b.CreateInBoundsGEP(i64, idx, cnt), Align(8));
      b.CreateStore(b.CreateAdd(cnt, b.CreateZExt(uns, i64)), count);
    }, LoopHint::Scalar);
    b.CreateRet(b.CreateLoad(i64, count, "U"));
  } else if (which == 1) {
    Value *lam = f->getArg(0), *idx = f->getArg(1), *u = f->getArg(2), *n = f->getArg(3);
    zeroDoubles(b, lam, b.CreateMul(b.CreateMul(u, b.getInt64(2)), n));
    emitLoop(b, b.getInt64(0), u, 1, "spec", [&](IRBuilder<> &b, Value *j) {
      Value *i = b.CreateAlignedLoad(i64, b.CreateInBoundsGEP(i64, idx, j), Align(8));
      storeD(b, cd(1.0), lam, b.CreateAdd(b.CreateMul(j, n), i));
      storeD(b, cd(-1.0), lam, b.CreateAdd(b.CreateMul(b.CreateAdd(u, j), n), i));
    }, LoopHint::Scalar);
    b.CreateRetVoid();
  } else {
    Value *lo = f->getArg(0), *hi = f->getArg(1), *idx = f->getArg(2), *lower = f->getArg(3);
    Value *u = f->getArg(4);
    emitLoop(b, b.getInt64(0), u, 1, "upd", [&](IRBuilder<> &b, Value *j) {
      Value *i = b.CreateAlignedLoad(i64, b.CreateInBoundsGEP(i64, idx, j), Align(8));
      Value *l = roundDown(b, loadD(b, lower, j));
      Value *h = roundUp(b, b.CreateFNeg(loadD(b, lower, b.CreateAdd(u, j))));
      Value *curL = loadF32(b, lo, i), *curH = loadF32(b, hi, i);
      storeF32(b, b.CreateSelect(b.CreateFCmpOLT(curL, l), l, curL), lo, i);
      storeF32(b, b.CreateSelect(b.CreateFCmpOLT(h, curH), h, curH), hi, i);
    }, LoopHint::Scalar);
    b.CreateRetVoid();
  }
  tightenFns_[which] = f;
  return f;
}

/// Tightens the unstable neurons of `target`, or `all` of them (a sigmoid
/// input), as ir::crown's CrownEngine::tighten.
void CrownEmitter::emitTighten(IRBuilder<> &b, const Slice &sl, int32_t target, bool all) {
  const CrownPass &p = lay_.intermediate.at(target);
  const int64_t n = lay_.numel[target];
  Value *lo = boundsLo(b, sl, target), *hi = boundsHi(b, sl, target);
  Value *idx = floatAt(b, sl.base, lay_.idxOff);
  Value *u = b.CreateCall(tightenHelper(0), {lo, hi, idx, b.getInt64(n), b.getInt64(all ? 1 : 0)});
  emitIf(b, b.CreateICmpSGT(u, b.getInt64(0)), "tighten", [&] {
    Value *rows = b.CreateMul(u, b.getInt64(2));
    Dyn d = dyn(b, sl.base, rows);
    b.CreateCall(tightenHelper(1), {lamOf(b, d, p, target), idx, u, b.getInt64(n)});
    Value *null = ConstantPointerNull::get(PointerType::getUnqual(ctx_));
    b.CreateCall(pass(p, Mode::Crown), {sl.base, sl.xlo, sl.xhi, null, null, rows});
    b.CreateCall(tightenHelper(2), {lo, hi, idx, d.lower, u});
  });
}

/// (slice, xlo, xhi, bounds_in, bounds_out, unused) if `tighten`, else
/// (slice, xlo, xhi, unused): interval bounds of every value into the slots,
/// with each relaxed value (the ReLU and sigmoid inputs) intersected with
/// bounds_in if given, tightened by CROWN and copied to bounds_out if given;
/// the count of neurons bounds_in left empty at the slice's flag slot.
/// Without `tighten` (the grad kernel), the f32 value of every value at the
/// point xlo into the lo slots, by the eval step functions
/// (ir::inputGradient's values).
Function *CrownEmitter::forward(bool tighten) {
  std::string name = prefix_ + (tighten ? "_crown.forward" : "_grad.forward");
  Function *f = createStepFunction(m_, name, tighten ? 5 : 3);
  Slice sl{f->getArg(0), f->getArg(1), f->getArg(2)};
  IRBuilder<> b(&f->getEntryBlock());
  Type *i64 = b.getInt64Ty();
  Value *bin = tighten ? f->getArg(3) : nullptr, *bout = tighten ? f->getArg(4) : nullptr;
  AllocaInst *empties = nullptr;
  if (tighten) {
    empties = b.CreateAlloca(i64, nullptr, "empties");
    b.CreateStore(b.getInt64(0), empties);
  }
  std::vector<int32_t> done;
  for (const Step &s : plan_.steps) {
    const StepRecord &rec = stepRecord(s);
    const int32_t v = s.inValues.empty() ? -1 : s.inValues[0];
    if (tighten && rec.relaxed() && v != plan_.inputValue &&
        std::find(done.begin(), done.end(), v) == done.end()) {
      done.push_back(v);
      Value *lo = boundsLo(b, sl, v), *hi = boundsHi(b, sl, v);
      Value *n = b.getInt64(lay_.numel[v]);
      Value *inLo = slopesOf(b, bin, v, 2);
      Value *inHi = floatPtr(b, inLo, n);
      // Intersected before the tightening (a neuron the caller's bounds make
      // stable needs none) and checked after it, when the tightened bounds
      // may cross the caller's.
      auto clamp = [&] {
        emitIf(b, b.CreateIsNotNull(bin), "clamp", [&] {
          Value *e = b.CreateCall(clampHelper(), {lo, hi, inLo, inHi, n});
          b.CreateStore(b.CreateAdd(b.CreateLoad(i64, empties), e), empties);
        });
      };
      clamp();
      emitTighten(b, sl, v, rec.relaxation == Relaxation::AllNeurons);
      clamp();
      Value *outLo = slopesOf(b, bout, v, 2);
      emitIf(b, b.CreateIsNotNull(bout), "bounds.out", [&] {
        b.CreateMemCpy(outLo, Align(4), lo, Align(4), lay_.numel[v] * 4);
        b.CreateMemCpy(floatPtr(b, outLo, n), Align(4), hi, Align(4), lay_.numel[v] * 4);
      });
    }
    // Every value its own slot: buffers named by value number.
    StepBuffers sb;
    std::vector<int32_t> values;
    auto add = [&](int32_t v) {
      for (unsigned i = 0; i < values.size(); ++i)
        if (values[i] == v)
          return i;
      values.push_back(v);
      sb.unique.push_back(BufferRef{100, v, lay_.numel[v]});
      return static_cast<unsigned>(values.size() - 1);
    };
    for (int32_t v : s.inValues)
      sb.inIdx.push_back(add(v));
    sb.outIdx = add(s.outValue);
    // Crown: intervals (lo and hi planes); grad: the f32 values at the point
    // (the eval step functions, lo planes only; the grad pass reads lo as
    // both bounds).
    Function *fn = tighten ? ibpStep_(s, sb) : evalStep_(s, sb);
    SmallVector<Value *, 12> args;
    if (rec.fixedOperands)
      values = {s.inValues[0], s.outValue};
    for (int32_t v : values) {
      args.push_back(boundsLo(b, sl, v));
      if (tighten)
        args.push_back(boundsHi(b, sl, v));
    }
    args.push_back(b.getInt64(1));
    b.CreateCall(fn, args);
  }
  if (tighten)
    b.CreateAlignedStore(b.CreateLoad(i64, empties), floatAt(b, sl.base, lay_.flagOff), Align(8));
  b.CreateRetVoid();
  return f;
}

void CrownEmitter::emitInfeasible(IRBuilder<> &b, Value *lower, Value *coefs, Value *n,
                                  Value *v) {
  const int64_t nIn = plan_.inputSize;
  Value *vf = b.CreateFPTrunc(v, b.getFloatTy());
  Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
  emitLoop(b, b.getInt64(0), n, 1, "inf", [&](IRBuilder<> &b, Value *i) {
    storeF32(b, vf, lower, i);
    emitIf(b, b.CreateIsNotNull(coefs), "coefs", [&] {
      Value *row = b.CreateMul(i, b.getInt64(nIn + 1));
      emitLoop(b, nIn, "k", [&](IRBuilder<> &b, Value *k) {
        storeF32(b, zero, coefs, b.CreateAdd(row, k));
      });
      storeF32(b, vf, coefs, b.CreateAdd(row, b.getInt64(nIn)));
    });
  }, LoopHint::Scalar);
}

/// (lo, hi, inLo, inHi, n) -> the count of neurons whose intersection is
/// empty: lo = max(lo, inLo), hi = min(hi, inHi) (a NaN bound of the
/// caller's changes nothing), and an empty one is set to [lo, lo] so that
/// the steps after it see an interval (the results are discarded then).
Function *CrownEmitter::clampHelper() {
  if (clamp_)
    return clamp_;
  Type *ptr = PointerType::getUnqual(ctx_), *i64 = Type::getInt64Ty(ctx_);
  auto *fty = FunctionType::get(i64, {ptr, ptr, ptr, ptr, i64}, false);
  Function *f = Function::Create(fty, GlobalValue::InternalLinkage, prefix_ + "_crown.clamp", m_);
  for (unsigned i = 0; i < 4; ++i) {
    f->addParamAttr(i, Attribute::NoAlias);
    f->addParamAttr(i, Attribute::NoCapture);
  }
  f->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(BasicBlock::Create(ctx_, "entry", f));
  Value *lo = f->getArg(0), *hi = f->getArg(1), *inLo = f->getArg(2), *inHi = f->getArg(3);
  AllocaInst *count = b.CreateAlloca(i64, nullptr, "empty");
  b.CreateStore(b.getInt64(0), count);
  emitLoop(b, b.getInt64(0), f->getArg(4), 1, "clamp", [&](IRBuilder<> &b, Value *i) {
    Value *l = loadF32(b, lo, i), *h = loadF32(b, hi, i);
    Value *cl = loadF32(b, inLo, i), *ch = loadF32(b, inHi, i);
    Value *nl = b.CreateSelect(b.CreateFCmpOLT(l, cl), cl, l);
    Value *nh = b.CreateSelect(b.CreateFCmpOLT(ch, h), ch, h);
    Value *empty = b.CreateFCmpOLT(nh, nl);
    storeF32(b, nl, lo, i);
    storeF32(b, b.CreateSelect(empty, nl, nh), hi, i);
    b.CreateStore(b.CreateAdd(b.CreateLoad(i64, count), b.CreateZExt(empty, i64)), count);
  }, LoopHint::Scalar);
  b.CreateRet(b.CreateLoad(i64, count));
  clamp_ = f;
  return f;
}

Function *CrownEmitter::emitCrownEntry() {
  Type *ptr = PointerType::getUnqual(ctx_), *i64 = Type::getInt64Ty(ctx_);
  auto *fty = FunctionType::get(Type::getVoidTy(ctx_),
                                {ptr, ptr, ptr, ptr, i64, ptr, ptr, ptr, ptr, ptr, i64, ptr}, false);
  Function *f = Function::Create(fty, GlobalValue::ExternalLinkage, prefix_ + "_crown", m_);
  static const char *const names[] = {"weights",   "xlo",        "xhi",          "C",
                                      "rows",      "lower",      "coefs",        "bounds_in",
                                      "bounds_out", "lower_slopes", "batch",     "scratch"};
  for (unsigned i = 0; i < f->arg_size(); ++i) {
    f->getArg(i)->setName(names[i]);
    if (f->getArg(i)->getType()->isPointerTy()) {
      f->addParamAttr(i, Attribute::NoAlias);
      f->addParamAttr(i, Attribute::NoCapture);
    }
  }
  f->addParamAttr(0, Attribute::ReadOnly);
  f->addFnAttr(Attribute::NoUnwind);

  // One box: (slice, xlo, xhi, C, lower, coefs, bounds_in, bounds_out,
  // lower_slopes, rows), the last four the box's parts (or null).
  Function *box = createStepFunction(m_, prefix_ + "_crown.box", 9);
  const int64_t nIn = plan_.inputSize;
  {
    Slice sl{box->getArg(0), box->getArg(1), box->getArg(2)};
    Value *C = box->getArg(3), *lower = box->getArg(4), *coefs = box->getArg(5);
    Value *bin = box->getArg(6), *bout = box->getArg(7), *slopes = box->getArg(8);
    Value *rows = box->getArg(9);
    Function *fwd = forward(true);
    Function *fin = pass(lay_.final, Mode::Crown);
    IRBuilder<> b(&box->getEntryBlock());
    b.CreateCall(fwd, {sl.base, sl.xlo, sl.xhi, bin, bout, b.getInt64(1)});
    // bounds_in left no point of the box: the minimum over the empty set.
    Value *empties = b.CreateAlignedLoad(b.getInt64Ty(), floatAt(b, sl.base, lay_.flagOff),
                                         Align(8));
    emitIf(b, b.CreateICmpNE(empties, b.getInt64(0)), "empty", [&] {
      emitInfeasible(b, lower, coefs, rows, cd(std::numeric_limits<double>::infinity()));
      b.CreateRetVoid();
      b.SetInsertPoint(BasicBlock::Create(ctx_, "empty.dead", box));
    });
    const int64_t nOut = plan_.outputSize;
    Dyn d = dyn(b, sl.base, rows);
    Value *lout = lamOf(b, d, lay_.final, plan_.outputValue);
    auto loadSpec = [&] { // Λ at the output = C (each final pass consumes it)
      b.CreateMemCpy(lout, Align(8), C, Align(8), b.CreateMul(rows, b.getInt64(nOut * 8)));
    };
    loadSpec();
    b.CreateCall(fin, {sl.base, sl.xlo, sl.xhi, coefs, slopes, rows});
    // Never looser than the interval bounds of C·y (ir::crown's final step).
    Value *ylo = boundsLo(b, sl, plan_.outputValue), *yhi = boundsHi(b, sl, plan_.outputValue);
    AllocaInst *il = accumulator(b, "il"), *mm = accumulator(b, "mm");
    emitLoop(b, b.getInt64(0), rows, 1, "r", [&](IRBuilder<> &b, Value *r) {
      b.CreateStore(cd(0.0), il);
      b.CreateStore(cd(0.0), mm);
      emitLoop(b, nOut, "j", [&](IRBuilder<> &b, Value *j) {
        Value *cv = loadD(b, C, b.CreateAdd(b.CreateMul(r, b.getInt64(nOut)), j));
        Value *l = toDouble(b, loadF32(b, ylo, j)), *h = toDouble(b, loadF32(b, yhi, j));
        reduce(b, il, b.CreateSelect(b.CreateFCmpOGE(cv, cd(0.0)), b.CreateFMul(cv, l),
                                     b.CreateFMul(cv, h)));
        reduce(b, mm, b.CreateFMul(fabs(b, cv), maxMag(b, l, h)));
      });
      Value *m = b.CreateFMul(cd(gammaBound(nOut + 4)), b.CreateLoad(f64(), mm));
      Value *fromCrown = roundDown(b, loadD(b, d.lower, r));
      Value *fromIbp = roundDown(b, b.CreateFSub(b.CreateLoad(f64(), il), m));
      storeF32(b, b.CreateSelect(b.CreateFCmpOLT(fromCrown, fromIbp), fromIbp, fromCrown), lower,
               r);
    });
    // The same final pass with parallel lower slopes; each row keeps the
    // larger of the two sound bounds (the coefficients stay the first's).
    loadSpec();
    Value *null = ConstantPointerNull::get(PointerType::getUnqual(ctx_));
    b.CreateCall(pass(lay_.final, Mode::CrownParallel), {sl.base, sl.xlo, sl.xhi, null, null, rows});
    emitLoop(b, b.getInt64(0), rows, 1, "r2", [&](IRBuilder<> &b, Value *r) {
      Value *alt = roundDown(b, loadD(b, d.lower, r));
      Value *cur = loadF32(b, lower, r);
      storeF32(b, b.CreateSelect(b.CreateFCmpOGT(alt, cur), alt, cur), lower, r);
    }, LoopHint::Scalar);
    b.CreateRetVoid();
  }

  IRBuilder<> b(BasicBlock::Create(ctx_, "entry", f));
  Value *xlo = f->getArg(1), *xhi = f->getArg(2), *C = f->getArg(3), *rows = f->getArg(4);
  Value *lower = f->getArg(5), *coefs = f->getArg(6), *bin = f->getArg(7), *bout = f->getArg(8);
  Value *slopes = f->getArg(9), *batch = f->getArg(10), *scratch = f->getArg(11);
  {
    // A foreign FP environment (FTZ/DAZ, directed rounding): lower = -inf and
    // the linear bound 0·x - inf, which are sound (KernelEmitter.h).
    BasicBlock *bad = BasicBlock::Create(ctx_, "fpenv.bad", f);
    BasicBlock *good = BasicBlock::Create(ctx_, "fpenv.ok", f);
    b.CreateCondBr(b.CreateCall(fpEnvironmentCheck(m_, prefix_)), good, bad);
    b.SetInsertPoint(bad);
    emitInfeasible(b, lower, coefs, b.CreateMul(batch, rows),
                   cd(-std::numeric_limits<double>::infinity()));
    b.CreateRetVoid();
    b.SetInsertPoint(good);
  }
  Value *per = b.CreateAdd(b.getInt64(lay_.scratchBase),
                           b.CreateMul(rows, b.getInt64(lay_.scratchPerRow)), "slice.floats");
  // A per-box part of an optional array: null stays null.
  auto part = [&](IRBuilder<> &b, Value *arr, Value *offset) {
    return b.CreateSelect(b.CreateIsNull(arr), arr, b.CreateGEP(b.getFloatTy(), arr, offset));
  };
  emitLoop(b, b.getInt64(0), batch, 1, "box", [&](IRBuilder<> &b, Value *bi) {
    Value *slice = floatPtr(b, scratch, b.CreateMul(bi, per));
    Value *xo = b.CreateMul(bi, b.getInt64(nIn));
    Value *coefsB = part(b, coefs, b.CreateMul(b.CreateMul(bi, rows), b.getInt64(nIn + 1)));
    Value *relOff = b.CreateMul(bi, b.getInt64(lay_.relaxedFloats));
    Value *bOff = b.CreateMul(relOff, b.getInt64(2));
    b.CreateCall(box, {slice, floatPtr(b, xlo, xo), floatPtr(b, xhi, xo), C,
                       floatPtr(b, lower, b.CreateMul(bi, rows)), coefsB, part(b, bin, bOff),
                       part(b, bout, bOff), part(b, slopes, relOff), rows});
  });
  b.CreateRetVoid();
  return f;
}

Function *CrownEmitter::emitGradEntry() {
  Type *ptr = PointerType::getUnqual(ctx_), *i64 = Type::getInt64Ty(ctx_);
  auto *fty = FunctionType::get(Type::getVoidTy(ctx_), {ptr, ptr, ptr, ptr, i64, ptr}, false);
  Function *f = Function::Create(fty, GlobalValue::ExternalLinkage, prefix_ + "_grad", m_);
  static const char *const names[] = {"weights", "x", "c", "grad", "batch", "scratch"};
  for (unsigned i = 0; i < f->arg_size(); ++i) {
    f->getArg(i)->setName(names[i]);
    if (f->getArg(i)->getType()->isPointerTy()) {
      f->addParamAttr(i, Attribute::NoAlias);
      f->addParamAttr(i, Attribute::NoCapture);
    }
  }
  f->addParamAttr(0, Attribute::ReadOnly);
  f->addFnAttr(Attribute::NoUnwind);
  Function *fwd = forward(false);
  Function *back = pass(lay_.final, Mode::Grad);

  IRBuilder<> b(BasicBlock::Create(ctx_, "entry", f));
  Value *x = f->getArg(1), *c = f->getArg(2), *grad = f->getArg(3), *batch = f->getArg(4);
  Value *scratch = f->getArg(5);
  const int64_t nIn = plan_.inputSize, nOut = plan_.outputSize;
  emitLoop(b, b.getInt64(0), batch, 1, "sample", [&](IRBuilder<> &b, Value *bi) {
    Value *slice = floatPtr(b, scratch, b.CreateMul(bi, b.getInt64(lay_.gradFloats)));
    Value *xo = b.CreateMul(bi, b.getInt64(nIn));
    Value *xb = floatPtr(b, x, xo);
    b.CreateCall(fwd, {slice, xb, xb, b.getInt64(1)});
    Dyn d = dyn(b, slice, b.getInt64(1));
    Value *lout = lamOf(b, d, lay_.final, plan_.outputValue);
    emitLoop(b, nOut, "spec", [&](IRBuilder<> &b, Value *j) { storeD(b, loadD(b, c, j), lout, j); });
    Value *null = ConstantPointerNull::get(PointerType::getUnqual(ctx_));
    b.CreateCall(back, {slice, xb, xb, null, null, b.getInt64(1)});
    Value *lin = lamOf(b, d, lay_.final, plan_.inputValue);
    Value *gb = floatPtr(b, grad, xo);
    emitLoop(b, nIn, "g", [&](IRBuilder<> &b, Value *k) {
      storeF32(b, b.CreateFPTrunc(loadD(b, lin, k), b.getFloatTy()), gb, k);
    });
  });
  b.CreateRetVoid();
  return f;
}


Function *affineCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.affineRule(s, m, n);
}
Function *convCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.convRule(s, m, n);
}
Function *reluCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.reluRule(s, m, n);
}
Function *scalarCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.scalarRule(s, m, n);
}
Function *binaryConstCrownRule(CrownEmitter &e, const Step &s, CrownMode m,
                               const std::string &n) {
  return e.binaryConstRule(s, m, n);
}
Function *linearCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.linearRule(s, m, n);
}
Function *gatherCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.gatherRule(s, m, n);
}
Function *maxCrownRule(CrownEmitter &e, const Step &s, CrownMode m, const std::string &n) {
  return e.maxRule(s, m, n);
}

CrownFunctions emitCrownKernels(Module &m, ConstantPool &pool, const KernelPlan &plan,
                                const CrownLayout &lay, const std::string &prefix,
                                const IbpStepFactory &ibpStep, const IbpStepFactory &evalStep) {
  assert(lay.supported && "emitCrownKernels on a plan without CROWN rules");
  return CrownEmitter(m, pool, plan, lay, prefix, ibpStep, evalStep).run();
}

} // namespace gma::codegen

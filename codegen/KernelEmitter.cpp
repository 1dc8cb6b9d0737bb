//===- codegen/KernelEmitter.cpp - KernelPlan to llvm::Module -------------===//
//
// Builds the module described in KernelEmitter.h:
//   1. one internal function per step and kernel, from the step's record
//      (codegen/StepRecord.h): its whole-step emitter, or the one elementwise
//      loop below over its scalar rule;
//   2. the entry points, which turn each buffer of the plan into a pointer
//      (region base + offset·B; in ibp the hi plane of the arena starts at
//      scratch + arena·B) and call the steps in schedule order;
//   3. the crown and grad kernels (CrownEmitter.cpp) when every step has a
//      CROWN rule;
//   4. the gamma_kernel_info descriptor and its accessor(s).
//
// Elementwise interval rules (docs/soundness.md): endpoints in double, rounded
// outward with roundDown/roundUp (slack 2, sigmoid 8 for libm's exp); relu and
// neg are exact; multiplying or dividing by a negative constant swaps the
// endpoints; dividing by a constant 0 gives [-inf, inf].
//
//===----------------------------------------------------------------------===//
#include "abi/ScalarRelax.h"
#include "codegen/KernelEmitter.h"
#include "codegen/ShareKernels.h"
#include "codegen/WeightsFile.h"

#include "codegen/IrHelpers.h"
#include "codegen/StepEmitters.h"
#include "ir/Rounding.h"
#include "abi/KernelAbiTable.h"
#include "generated/Version.h"

#include <llvm/IR/Constants.h>
#include <llvm/Support/ErrorHandling.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cmath>
#include <limits>


namespace gma::codegen {

using namespace llvm;

GlobalVariable *ConstantPool::get(const ConstData &c, const std::string &name) {
  int64_t index = plan_.weightIndex(c);
  if (index < 0)
    report_fatal_error(Twine("constant '") + name + "' is not in the plan's weight table");
  if (auto it = cache_.find(index); it != cache_.end())
    return it->second;
  LLVMContext &ctx = m_.getContext();
  auto *ty = ArrayType::get(Type::getFloatTy(ctx), static_cast<uint64_t>(c.size));
  auto *gv = new GlobalVariable(m_, ty, /*isConstant=*/true, GlobalValue::InternalLinkage,
                                ConstantAggregateZero::get(ty), name);
  gv->setAlignment(Align(alignof(float)));
  gv->setMetadata(kWeightMetadata,
                  MDNode::get(ctx, ConstantAsMetadata::get(ConstantInt::get(
                                       Type::getInt64Ty(ctx), static_cast<uint64_t>(index)))));
  cache_[index] = gv;
  return gv;
}

FunctionCallee declarePure(Module &m, const char *name, Type *ret, ArrayRef<Type *> args) {
  FunctionCallee callee = m.getOrInsertFunction(name, FunctionType::get(ret, args, false));
  if (auto *f = dyn_cast<Function>(callee.getCallee())) {
    f->addFnAttr(Attribute::NoUnwind);
    f->addFnAttr(Attribute::WillReturn);
    f->setDoesNotAccessMemory();
  }
  return callee;
}

FunctionCallee declareExpF64(Module &m) {
  // As with -fno-math-errno: exp neither unwinds nor touches memory we read.
  Type *f64 = Type::getDoubleTy(m.getContext());
  return declarePure(m, "exp", f64, {f64});
}

FunctionCallee declareScalarTableFn(Module &m, const char *name) {
  Type *f64 = Type::getDoubleTy(m.getContext());
  FunctionCallee callee = declarePure(m, name, f64, {Type::getInt32Ty(m.getContext()), f64});
  cast<Function>(callee.getCallee())->setVisibility(GlobalValue::HiddenVisibility);
  return callee;
}

Function *fpEnvironmentCheck(Module &m, const std::string &prefix) {
  std::string name = prefix + ".fpenv_ok";
  if (Function *f = m.getFunction(name))
    return f;
  LLVMContext &ctx = m.getContext();
  Type *f64 = Type::getDoubleTy(ctx), *f32 = Type::getFloatTy(ctx);
  Function *f = Function::Create(FunctionType::get(Type::getInt1Ty(ctx), false),
                                 GlobalValue::InternalLinkage, name, m);
  f->addFnAttr(Attribute::StrictFP);
  f->addFnAttr(Attribute::NoInline);
  f->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", f));
  b.setIsFPConstrained(true);
  b.setDefaultConstrainedRounding(RoundingMode::Dynamic);
  b.setDefaultConstrainedExcept(fp::ebIgnore);
  auto probe = [&](Type *t, double v, const char *n) {
    auto *gv = new GlobalVariable(m, t, /*isConstant=*/false, GlobalValue::PrivateLinkage,
                                  ConstantFP::get(t, v), prefix + ".fpenv." + n);
    LoadInst *ld = b.CreateLoad(t, gv, n);
    ld->setVolatile(true);
    return ld;
  };
  // A subnormal operand and result, scaled back to the normal range before
  // the comparison (DAZ would read a subnormal comparand as 0 too): 0 under
  // DAZ or FTZ.
  Value *d = probe(f64, 0x1p-1074, "d"), *dScale = probe(f64, 0x1p1000, "dscale");
  Value *okD = b.CreateFCmpOEQ(b.CreateFMul(b.CreateFAdd(d, d), dScale),
                               ConstantFP::get(f64, 0x1p-73));
  Value *s = probe(f32, 0x1p-149, "s"), *sScale = probe(f32, 0x1p100, "sscale");
  Value *okS = b.CreateFCmpOEQ(b.CreateFMul(b.CreateFAdd(s, s), sScale),
                               ConstantFP::get(f32, 0x1p-48));
  // Round to nearest: 1 + 2^-54 is 1 (not upward), 1 + 1.5·2^-53 is
  // 1 + 2^-52 (not downward, not toward zero).
  Value *one = probe(f64, 1.0, "one");
  Value *q = probe(f64, 0x1p-54, "quarter"), *h = probe(f64, 0x1.8p-53, "threehalves");
  Value *okUp = b.CreateFCmpOEQ(b.CreateFAdd(one, q), ConstantFP::get(f64, 1.0));
  Value *okDown = b.CreateFCmpOEQ(b.CreateFAdd(one, h), ConstantFP::get(f64, 1.0 + 0x1p-52));
  b.CreateRet(b.CreateAnd(b.CreateAnd(okD, okS), b.CreateAnd(okUp, okDown)));
  return f;
}

Function *createStepFunction(Module &m, const std::string &name, unsigned numPtrs) {
  LLVMContext &ctx = m.getContext();
  SmallVector<Type *, 8> params(numPtrs, PointerType::getUnqual(ctx));
  params.push_back(Type::getInt64Ty(ctx));
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), params, false);
  Function *f = Function::Create(fty, GlobalValue::InternalLinkage, name, m);
  for (unsigned i = 0; i < numPtrs; ++i) {
    f->addParamAttr(i, Attribute::NoAlias);
    f->addParamAttr(i, Attribute::NoCapture);
  }
  f->getArg(numPtrs)->setName("batch");
  f->addFnAttr(Attribute::NoUnwind);
  BasicBlock::Create(ctx, "entry", f);
  return f;
}

namespace {

enum class Kernel { Eval, Ibp };

StepBuffers stepBuffers(const Step &s) {
  StepBuffers sb;
  auto add = [&](const BufferRef &r) {
    for (unsigned i = 0; i < sb.unique.size(); ++i)
      if (sb.unique[i] == r)
        return i;
    sb.unique.push_back(r);
    return static_cast<unsigned>(sb.unique.size() - 1);
  };
  for (const BufferRef &r : s.in)
    sb.inIdx.push_back(add(r));
  sb.outIdx = add(s.out);
  return sb;
}

class ModuleEmitter {
public:
  ModuleEmitter(const KernelPlan &plan, const EmitterOptions &opts, LLVMContext &ctx)
      : plan_(plan), opts_(opts), ctx_(ctx),
        m_(std::make_unique<Module>(opts.prefix.empty() ? "gamma" : opts.prefix, ctx)),
        pool_(*m_, plan) {}

  std::unique_ptr<Module> run();

private:
  Function *emitStep(const Step &s, Kernel kernel, const StepBuffers &sb);
  Function *emitEntry(Kernel kernel);
  void emitInfo(Function *eval, Function *ibp, const CrownLayout &lay, const CrownFunctions &crown);

  const KernelPlan &plan_;
  const EmitterOptions &opts_;
  LLVMContext &ctx_;
  std::unique_ptr<Module> m_;
  ConstantPool pool_;
  /// The eval and ibp kernels' fixed-operand step functions, reused by the
  /// grad and crown kernels.
  std::map<const Step *, Function *> ibpFixed_, evalFixed_;
};

std::unique_ptr<Module> ModuleEmitter::run() {
  Function *eval = emitEntry(Kernel::Eval);
  Function *ibp = emitEntry(Kernel::Ibp);
  CrownLayout lay = computeCrownLayout(plan_);
  CrownFunctions crown;
  // The step functions the crown (ibp) and grad (eval) kernels' forward
  // passes call on their value slots: a fixed-operand step's kernel function
  // serves any buffers; an elementwise one gets its own (every value its own
  // slot, so never in place).
  std::map<const Step *, Function *> crownIbp, gradEval;
  auto slotSteps = [&](bool interval) -> IbpStepFactory {
    return [this, interval, &crownIbp, &gradEval](const Step &s, const StepBuffers &sb) -> Function * {
      if (stepRecord(s).fixedOperands)
        return (interval ? ibpFixed_ : evalFixed_).at(&s);
      Function *&fn = (interval ? crownIbp : gradEval)[&s];
      if (!fn) {
        StepEmitContext ctx{*m_, pool_};
        fn = emitStepFunction(ctx, s, interval, sb,
                              opts_.prefix + (interval ? "_crown.ibp." : "_grad.eval.") + s.name);
      }
      return fn;
    };
  };
  if (lay.supported)
    crown = emitCrownKernels(*m_, pool_, plan_, lay, opts_.prefix, slotSteps(true),
                             slotSteps(false));
  emitInfo(eval, ibp, lay, crown);
  for (Function &f : *m_) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr(Attribute::NoUnwind);
    if (!opts_.cpu.empty())
      f.addFnAttr("target-cpu", opts_.cpu);
    if (!opts_.features.empty())
      f.addFnAttr("target-features", opts_.features);
    if (opts_.preferVectorWidth > 0)
      f.addFnAttr("prefer-vector-width", std::to_string(opts_.preferVectorWidth));
  }
  return std::move(m_);
}

} // namespace

// --- the elementwise rules of the records (StepEmitters.h) -----------------

Value *reluEval(IRBuilder<> &b, const Step &, Value *x, Value *) {
  // std::max(x, 0.0f): x < 0 ? 0 : x.
  Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
  return b.CreateSelect(b.CreateFCmpOLT(x, zero), zero, x);
}

std::pair<Value *, Value *> reluInterval(IRBuilder<> &b, const Step &, Value *lo, Value *hi,
                                         Value *) {
  Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
  return {b.CreateSelect(b.CreateFCmpOLT(lo, zero), zero, lo),
          b.CreateSelect(b.CreateFCmpOLT(hi, zero), zero, hi)};
}

Value *leakyReluEval(IRBuilder<> &b, const Step &s, Value *x, Value *) {
  // x < 0 ? α·x : x, the product in f32 (as the interpreter).
  Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
  Value *ax = b.CreateFMul(ConstantFP::get(b.getFloatTy(), s.alpha), x);
  return b.CreateSelect(b.CreateFCmpOLT(x, zero), ax, x);
}

std::pair<Value *, Value *> leakyReluInterval(IRBuilder<> &b, const Step &s, Value *lo, Value *hi,
                                              Value *) {
  // Monotone; α·x of two f32 is exact in double: directed conversion (slack 0).
  Value *zero = ConstantFP::get(b.getFloatTy(), 0.0);
  Value *alpha = ConstantFP::get(b.getDoubleTy(), static_cast<double>(s.alpha));
  Value *l = roundDown(b, b.CreateFMul(alpha, toDouble(b, lo)), 0.0);
  Value *h = roundUp(b, b.CreateFMul(alpha, toDouble(b, hi)), 0.0);
  return {b.CreateSelect(b.CreateFCmpOLT(lo, zero), l, lo),
          b.CreateSelect(b.CreateFCmpOLT(hi, zero), h, hi)};
}

Value *negEval(IRBuilder<> &b, const Step &, Value *x, Value *) { return b.CreateFNeg(x); }

std::pair<Value *, Value *> negInterval(IRBuilder<> &b, const Step &, Value *lo, Value *hi,
                                        Value *) {
  return {b.CreateFNeg(hi), b.CreateFNeg(lo)};
}

Value *sigmoidEval(IRBuilder<> &b, const Step &, Value *x, Value *) {
  Value *e = b.CreateUnaryIntrinsic(Intrinsic::exp, b.CreateFNeg(x));
  Value *one = ConstantFP::get(b.getFloatTy(), 1.0);
  return b.CreateFDiv(one, b.CreateFAdd(one, e));
}

std::pair<Value *, Value *> sigmoidInterval(IRBuilder<> &b, const Step &, Value *lo, Value *hi,
                                            Value *) {
  // Monotone: sigma(lo) rounded down, sigma(hi) rounded up, in double with
  // libm's exp (slack 8: exp's error, the add, the divide, the rounding).
  Type *f64 = b.getDoubleTy();
  Value *one = ConstantFP::get(f64, 1.0);
  FunctionCallee exp = declareExpF64(*b.GetInsertBlock()->getModule());
  auto sig = [&](Value *v) {
    Value *e = b.CreateCall(exp, {b.CreateFNeg(toDouble(b, v))});
    return b.CreateFDiv(one, b.CreateFAdd(one, e));
  };
  // σ > 0 and < 1 for every real x: the upper bound is floored at the
  // smallest positive f32 (the double σ is 0 from x < -709.78, where exp
  // overflows, and below 2^-149 from x < -103), and 0 <= σ <= 1 caps both
  // ends, as ir::ibp (docs/soundness.md, "sigmoid floor").
  Type *f32 = b.getFloatTy();
  Value *l32 = roundDown(b, sig(lo), 8.0), *h32 = roundUp(b, sig(hi), 8.0);
  if (ir::roundingMutation() != ir::RoundingCharge::SigmoidFloor) {
    Value *floor = ConstantFP::get(f32, static_cast<double>(ir::kMinPositiveF32));
    h32 = b.CreateSelect(b.CreateFCmpOLT(h32, floor), floor, h32);
  }
  Value *zero32 = ConstantFP::get(f32, 0.0), *one32 = ConstantFP::get(f32, 1.0);
  l32 = b.CreateSelect(b.CreateFCmpOLT(l32, zero32), zero32, l32);
  h32 = b.CreateSelect(b.CreateFCmpOGT(h32, one32), one32, h32);
  return {l32, h32};
}

/// x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)), as ir's f32 softplus.
Value *softplusEval(IRBuilder<> &b, const Step &, Value *x, Value *) {
  Module &m = *b.GetInsertBlock()->getModule();
  Type *f32 = b.getFloatTy();
  FunctionCallee log1p = declarePure(m, "log1pf", f32, {f32});
  Value *pos = b.CreateFAdd(
      x, b.CreateCall(log1p, {b.CreateUnaryIntrinsic(Intrinsic::exp, b.CreateFNeg(x))}));
  Value *neg = b.CreateCall(log1p, {b.CreateUnaryIntrinsic(Intrinsic::exp, x)});
  return b.CreateSelect(b.CreateFCmpOGT(x, ConstantFP::get(f32, 0.0)), pos, neg);
}

/// tanhf(x), as ir's f32 tanh.
Value *tanhEval(IRBuilder<> &b, const Step &, Value *x, Value *) {
  Type *f32 = b.getFloatTy();
  return b.CreateCall(declarePure(*b.GetInsertBlock()->getModule(), "tanhf", f32, {f32}), {x});
}

/// expf(x) (llvm.exp.f32, which calls libm's expf), as ir's f32 exp.
Value *expEval(IRBuilder<> &b, const Step &, Value *x, Value *) {
  return b.CreateUnaryIntrinsic(Intrinsic::exp, x);
}

/// ir's intervalScalar: the scalar table's f in double (gamma_scalar_value,
/// the object ir links), rounded outward with slack 8, the upper bound
/// floored at the smallest positive f32 and both ends capped to the range.
std::pair<Value *, Value *> scalarInterval(IRBuilder<> &b, const Step &s, Value *lo, Value *hi,
                                           Value *) {
  Module &m = *b.GetInsertBlock()->getModule();
  Type *f32 = b.getFloatTy();
  FunctionCallee value = declareScalarTableFn(m, "gamma_scalar_value");
  Value *fn = b.getInt32(s.scalarFn);
  Value *l32 = roundDown(b, b.CreateCall(value, {fn, toDouble(b, lo)}), 8.0);
  Value *h32 = roundUp(b, b.CreateCall(value, {fn, toDouble(b, hi)}), 8.0);
  double range[2];
  gamma_scalar_range(s.scalarFn, range);
  // A positive function (range (0, hi)): the upper bound floored at the
  // smallest positive f32, as ir::ibp.
  if (range[0] == 0.0 && ir::roundingMutation() != ir::RoundingCharge::SigmoidFloor) {
    Value *floor = ConstantFP::get(f32, static_cast<double>(ir::kMinPositiveF32));
    h32 = b.CreateSelect(b.CreateFCmpOLT(h32, floor), floor, h32);
  }
  Value *floorLo = ConstantFP::get(f32, static_cast<float>(range[0]));
  l32 = b.CreateSelect(b.CreateFCmpOLT(l32, floorLo), floorLo, l32);
  if (std::isfinite(range[1])) {
    Value *capHi = ConstantFP::get(f32, static_cast<float>(range[1]));
    h32 = b.CreateSelect(b.CreateFCmpOGT(h32, capHi), capHi, h32);
  }
  return {l32, h32};
}

Value *binaryConstEval(IRBuilder<> &b, const Step &s, Value *x, Value *c) {
  Value *l = s.constOnLeft ? c : x, *r = s.constOnLeft ? x : c;
  switch (s.bin) {
  case BinOp::Add: return b.CreateFAdd(l, r);
  case BinOp::Sub: return b.CreateFSub(l, r);
  case BinOp::Mul: return b.CreateFMul(l, r);
  case BinOp::Div: return b.CreateFDiv(l, r);
  }
  llvm_unreachable("unknown BinOp");
}

std::pair<Value *, Value *> binaryConstInterval(IRBuilder<> &b, const Step &s, Value *lo,
                                                Value *hi, Value *c) {
  Type *f64 = b.getDoubleTy();
  Value *cd = toDouble(b, c), *ld = toDouble(b, lo), *hd = toDouble(b, hi);
  switch (s.bin) {
  case BinOp::Add:
    return {roundDown(b, b.CreateFAdd(ld, cd)), roundUp(b, b.CreateFAdd(hd, cd))};
  case BinOp::Sub:
    if (s.constOnLeft)
      return {roundDown(b, b.CreateFSub(cd, hd)), roundUp(b, b.CreateFSub(cd, ld))};
    return {roundDown(b, b.CreateFSub(ld, cd)), roundUp(b, b.CreateFSub(hd, cd))};
  case BinOp::Mul:
  case BinOp::Div: {
    bool mul = s.bin == BinOp::Mul;
    Value *p = mul ? b.CreateFMul(ld, cd) : b.CreateFDiv(ld, cd);
    Value *q = mul ? b.CreateFMul(hd, cd) : b.CreateFDiv(hd, cd);
    Value *neg = b.CreateFCmpOLT(cd, ConstantFP::get(f64, 0.0));
    Value *outLo = roundDown(b, b.CreateSelect(neg, q, p));
    Value *outHi = roundUp(b, b.CreateSelect(neg, p, q));
    if (mul)
      return {outLo, outHi};
    float inf = std::numeric_limits<float>::infinity();
    Value *byZero = b.CreateFCmpOEQ(cd, ConstantFP::get(f64, 0.0));
    return {b.CreateSelect(byZero, ConstantFP::get(b.getFloatTy(), -inf), outLo),
            b.CreateSelect(byZero, ConstantFP::get(b.getFloatTy(), inf), outHi)};
  }
  }
  llvm_unreachable("unknown BinOp");
}

// --- whole-step emitters of the elementwise kinds ----------------------------

namespace {

Function *copyStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                   const std::string &name, unsigned planes) {
  Function *f = createStepFunction(ctx.m, name, planes * static_cast<unsigned>(sb.unique.size()));
  Value *batch = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  Value *bytes = b.CreateMul(batch, b.getInt64(s.out.numel * 4));
  for (unsigned p = 0; p < planes; ++p)
    b.CreateMemCpy(f->getArg(sb.outIdx * planes + p), Align(4),
                   f->getArg(sb.inIdx[0] * planes + p), Align(4), bytes);
  b.CreateRetVoid();
  return f;
}

/// The one loop of a step of two activations of one shape (x ± y, max):
/// `body(b, i, plane)` per element, plane(buffer, p) the pointer of plane p
/// of a buffer (eval: 1 plane, ibp: lo and hi).
using PlaneFn = std::function<Value *(unsigned buf, unsigned p)>;
Function *twoActivationStep(
    StepEmitContext &ctx, const StepBuffers &sb, const std::string &name, unsigned planes,
    int64_t numel, const std::function<void(IRBuilder<> &, Value *, const PlaneFn &)> &body) {
  Function *f = createStepFunction(ctx.m, name, planes * static_cast<unsigned>(sb.unique.size()));
  Value *batch = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  PlaneFn plane = [&](unsigned buf, unsigned p) { return f->getArg(buf * planes + p); };
  emitLoop(b, b.getInt64(0), b.CreateMul(batch, b.getInt64(numel)), 1, "i",
           [&](IRBuilder<> &b, Value *i) { body(b, i, plane); });
  b.CreateRetVoid();
  return f;
}

Function *addSubStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                     const std::string &name, bool ibp) {
  const unsigned a = sb.inIdx[0], c = sb.inIdx[1], out = sb.outIdx;
  const bool add = s.bin == BinOp::Add;
  return twoActivationStep(
      ctx, sb, name, ibp ? 2 : 1, s.out.numel,
      [&](IRBuilder<> &b, Value *i, const PlaneFn &plane) {
        if (!ibp) {
          Value *x = loadF32(b, plane(a, 0), i), *y = loadF32(b, plane(c, 0), i);
          storeF32(b, add ? b.CreateFAdd(x, y) : b.CreateFSub(x, y), plane(out, 0), i);
          return;
        }
        Value *alo = toDouble(b, loadF32(b, plane(a, 0), i));
        Value *ahi = toDouble(b, loadF32(b, plane(a, 1), i));
        Value *clo = toDouble(b, loadF32(b, plane(c, 0), i));
        Value *chi = toDouble(b, loadF32(b, plane(c, 1), i));
        Value *rlo = add ? b.CreateFAdd(alo, clo) : b.CreateFSub(alo, chi);
        Value *rhi = add ? b.CreateFAdd(ahi, chi) : b.CreateFSub(ahi, clo);
        storeF32(b, roundDown(b, rlo), plane(out, 0), i);
        storeF32(b, roundUp(b, rhi), plane(out, 1), i);
      });
}

/// max(x, y) = x < y ? y : x, exact, on values and on each endpoint.
Function *maxStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                  const std::string &name, unsigned planes) {
  const unsigned a = sb.inIdx[0], c = sb.inIdx[1], out = sb.outIdx;
  return twoActivationStep(ctx, sb, name, planes, s.out.numel,
                           [&](IRBuilder<> &b, Value *i, const PlaneFn &plane) {
                             for (unsigned p = 0; p < planes; ++p) {
                               Value *x = loadF32(b, plane(a, p), i);
                               Value *y = loadF32(b, plane(c, p), i);
                               storeF32(b, b.CreateSelect(b.CreateFCmpOLT(x, y), y, x),
                                        plane(out, p), i);
                             }
                           });
}

/// Index-map ops, per sample and plane: each operand block's result
/// elements from their sources (a memcpy for a contiguous block, else a loop
/// over the index table), then the constants' block. Exact in f32 and in
/// intervals (lo from lo, hi from hi).
Function *gatherStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                     const std::string &name, unsigned planes) {
  Function *f = createStepFunction(ctx.m, name, planes * static_cast<unsigned>(sb.unique.size()));
  Value *batch = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  const std::vector<GatherBlock> &blocks = s.gatherBlocks;
  const std::vector<int32_t> distinct = s.distinctInValues();
  GlobalVariable *table = ctx.pool.get(s.gatherIndex, s.name + ".idx");
  GlobalVariable *cst = s.constant.data ? ctx.pool.get(s.constant, s.name + ".c") : nullptr;
  auto index = [&](IRBuilder<> &b, int64_t at, Value *j) { return loadIndex(b, table, at, j); };
  const int64_t nOut = s.out.numel;
  emitLoop(b, b.getInt64(0), batch, 1, "sample", [&](IRBuilder<> &b, Value *bi) {
    for (size_t k = 0; k < blocks.size(); ++k) {
      const GatherBlock &g = blocks[k];
      if (g.count == 0)
        continue;
      // The operand of block k: the first position holding its value.
      size_t pos = 0;
      if (k < distinct.size())
        while (s.inValues[pos] != distinct[k])
          ++pos;
      for (unsigned p = 0; p < planes; ++p) {
        Value *out = floatPtr(b, f->getArg(sb.outIdx * planes + p), b.CreateMul(bi, b.getInt64(nOut)));
        if (g.srcAt < 0) {
          emitLoop(b, g.count, "const", [&](IRBuilder<> &b, Value *j) {
            storeF32(b, loadF32(b, cst, j), out, index(b, g.dstAt, j));
          });
          continue;
        }
        const int64_t nIn = s.in[pos].numel;
        Value *in = floatPtr(b, f->getArg(sb.inIdx[pos] * planes + p), b.CreateMul(bi, b.getInt64(nIn)));
        if (g.contiguous) {
          b.CreateMemCpy(floatPtr(b, out, b.getInt64(g.dst0)), Align(4),
                         floatPtr(b, in, b.getInt64(g.src0)), Align(4), g.count * 4);
          continue;
        }
        emitLoop(b, g.count, "gather", [&](IRBuilder<> &b, Value *j) {
          storeF32(b, loadF32(b, in, index(b, g.srcAt, j)), out, index(b, g.dstAt, j));
        });
      }
    }
  });
  b.CreateRetVoid();
  return f;
}

/// The one loop of every elementwise step: the record's scalar rule on each
/// element, with the broadcast constant (if any) read as C[m] for element
/// ((o·mid) + m)·inner + i of a sample.
Function *elementwiseStep(StepEmitContext &ctx, const Step &s, const StepRecord &rec,
                          const StepBuffers &sb, const std::string &name, bool ibp) {
  const unsigned planes = ibp ? 2 : 1;
  Function *f = createStepFunction(ctx.m, name, planes * static_cast<unsigned>(sb.unique.size()));
  Value *batch = f->getArg(f->arg_size() - 1);
  IRBuilder<> b(&f->getEntryBlock());
  auto lo = [&](unsigned buf) { return f->getArg(buf * planes); };
  auto hi = [&](unsigned buf) { return f->getArg(buf * planes + 1); };
  const unsigned in = sb.inIdx[0], out = sb.outIdx;
  auto body = [&](IRBuilder<> &b, Value *i, Value *c) {
    if (!ibp) {
      storeF32(b, rec.scalarEval(b, s, loadF32(b, lo(in), i), c), lo(out), i);
      return;
    }
    auto [rlo, rhi] = rec.scalarInterval(b, s, loadF32(b, lo(in), i), loadF32(b, hi(in), i), c);
    storeF32(b, rlo, lo(out), i);
    storeF32(b, rhi, hi(out), i);
  };
  if (!s.constant.data) {
    emitLoop(b, b.getInt64(0), b.CreateMul(batch, b.getInt64(s.out.numel)), 1, "i",
             [&](IRBuilder<> &b, Value *i) { body(b, i, nullptr); });
    b.CreateRetVoid();
    return f;
  }
  // Trip-count-1 loops fold away, leaving a vectorisable loop along mid or inner.
  GlobalVariable *cst = ctx.pool.get(s.constant, s.name + ".c");
  emitLoop(b, b.getInt64(0), b.CreateMul(batch, b.getInt64(s.outer)), 1, "o",
           [&](IRBuilder<> &b, Value *o) {
             emitLoop(b, s.mid, "m", [&](IRBuilder<> &b, Value *mi) {
               Value *c = loadF32(b, cst, mi);
               Value *base = b.CreateMul(b.CreateAdd(b.CreateMul(o, b.getInt64(s.mid)), mi),
                                         b.getInt64(s.inner));
               emitLoop(b, s.inner, "in", [&](IRBuilder<> &b, Value *ii) {
                 body(b, b.CreateAdd(base, ii), c);
               });
             });
           });
  b.CreateRetVoid();
  return f;
}

} // namespace

Function *copyEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                       const std::string &name) {
  return copyStep(ctx, s, sb, name, 1);
}
Function *copyIbpStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                      const std::string &name) {
  return copyStep(ctx, s, sb, name, 2);
}
Function *addSubEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                         const std::string &name) {
  return addSubStep(ctx, s, sb, name, false);
}
Function *addSubIbpStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                        const std::string &name) {
  return addSubStep(ctx, s, sb, name, true);
}
Function *maxEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                      const std::string &name) {
  return maxStep(ctx, s, sb, name, 1);
}
Function *maxIbpStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                     const std::string &name) {
  return maxStep(ctx, s, sb, name, 2);
}
Function *gatherEvalStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                         const std::string &name) {
  return gatherStep(ctx, s, sb, name, 1);
}
Function *gatherIbpStep(StepEmitContext &ctx, const Step &s, const StepBuffers &sb,
                        const std::string &name) {
  return gatherStep(ctx, s, sb, name, 2);
}

Function *emitStepFunction(StepEmitContext &ctx, const Step &s, bool ibp, const StepBuffers &sb,
                           const std::string &name) {
  const StepRecord &rec = stepRecord(s);
  if (StepFunctionHook hook = ibp ? rec.ibp : rec.eval)
    return hook(ctx, s, sb, name);
  assert(rec.scalarEval && rec.scalarInterval && "a step kind without eval/ibp emitters");
  return elementwiseStep(ctx, s, rec, sb, name, ibp);
}

namespace {

Function *ModuleEmitter::emitStep(const Step &s, Kernel kernel, const StepBuffers &sb) {
  std::string name =
      opts_.prefix + (kernel == Kernel::Eval ? "_eval." : "_ibp.") + s.name;
  StepEmitContext ctx{*m_, pool_};
  Function *f = emitStepFunction(ctx, s, kernel == Kernel::Ibp, sb, name);
  if (stepRecord(s).fixedOperands)
    (kernel == Kernel::Ibp ? ibpFixed_ : evalFixed_)[&s] = f;
  return f;
}

Function *ModuleEmitter::emitEntry(Kernel kernel) {
  const bool ibp = kernel == Kernel::Ibp;
  Type *ptr = PointerType::getUnqual(ctx_);
  Type *i64 = Type::getInt64Ty(ctx_);
  // (weights, xlo, xhi, ylo, yhi, batch, scratch) / (weights, x, y, batch,
  // scratch), as abi/KernelAbi.def declares them.
  SmallVector<Type *, 7> params;
  if (ibp)
    params = {ptr, ptr, ptr, ptr, ptr, i64, ptr};
  else
    params = {ptr, ptr, ptr, i64, ptr};
  auto *fty = FunctionType::get(Type::getVoidTy(ctx_), params, false);
  std::string name = opts_.prefix + (ibp ? "_ibp" : "_eval");
  Function *f = Function::Create(fty, GlobalValue::ExternalLinkage, name, *m_);
  static const char *const evalNames[] = {"weights", "x", "y", "batch", "scratch"};
  static const char *const ibpNames[] = {"weights", "xlo", "xhi", "ylo",
                                         "yhi",     "batch", "scratch"};
  for (unsigned i = 0; i < f->arg_size(); ++i) {
    f->getArg(i)->setName(ibp ? ibpNames[i] : evalNames[i]);
    if (f->getArg(i)->getType()->isPointerTy()) {
      f->addParamAttr(i, Attribute::NoAlias);
      f->addParamAttr(i, Attribute::NoCapture);
    }
  }
  f->addParamAttr(0, Attribute::ReadOnly);
  f->addFnAttr(Attribute::NoUnwind);
  // The buffers' arguments, after the weight table.
  auto arg = [&](unsigned i) { return f->getArg(i + 1); };
  Value *batch = arg(ibp ? 4 : 2);
  Value *scratch = arg(ibp ? 5 : 3);

  // Step functions are emitted before the entry's body so that each keeps
  // its own IRBuilder.
  std::vector<std::pair<Function *, StepBuffers>> steps;
  for (const Step &s : plan_.steps) {
    StepBuffers sb = stepBuffers(s);
    steps.emplace_back(emitStep(s, kernel, sb), std::move(sb));
  }

  IRBuilder<> b(BasicBlock::Create(ctx_, "entry", f));
  if (ibp) {
    // A foreign FP environment (FTZ/DAZ, directed rounding) voids the
    // rounding lemmas: answer [-inf, inf], which is sound.
    BasicBlock *bad = BasicBlock::Create(ctx_, "fpenv.bad", f);
    BasicBlock *good = BasicBlock::Create(ctx_, "fpenv.ok", f);
    b.CreateCondBr(b.CreateCall(fpEnvironmentCheck(*m_, opts_.prefix)), good, bad);
    b.SetInsertPoint(bad);
    float inf = std::numeric_limits<float>::infinity();
    emitLoop(b, b.getInt64(0), b.CreateMul(batch, b.getInt64(plan_.outputSize)), 1, "inf",
             [&](IRBuilder<> &b, Value *i) {
               storeF32(b, ConstantFP::get(b.getFloatTy(), -inf), arg(2), i);
               storeF32(b, ConstantFP::get(b.getFloatTy(), inf), arg(3), i);
             });
    b.CreateRetVoid();
    b.SetInsertPoint(good);
  }
  auto plane = [&](const BufferRef &r, bool hiPlane) -> Value * {
    Value *base = nullptr;
    int64_t offset = r.offset;
    switch (r.region) {
    case 0:
      base = scratch;
      if (hiPlane)
        offset += plan_.arena;
      break;
    case 1:
      base = arg(ibp && hiPlane ? 1 : 0);
      break;
    default:
      base = arg(ibp ? (hiPlane ? 3 : 2) : 1);
      break;
    }
    if (offset == 0)
      return base;
    return floatPtr(b, base, b.CreateMul(b.getInt64(offset), batch));
  };

  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    const Step &s = plan_.steps[i];
    auto &[fn, sb] = steps[i];
    // Fixed-operand steps take (in, out) in that order (the plan keeps them
    // disjoint); elementwise steps take each distinct buffer once.
    SmallVector<BufferRef, 4> buffers;
    if (stepRecord(s).fixedOperands)
      buffers = {s.in[0], s.out};
    else
      buffers.assign(sb.unique.begin(), sb.unique.end());
    SmallVector<Value *, 12> args;
    for (const BufferRef &r : buffers) {
      args.push_back(plane(r, false));
      if (ibp)
        args.push_back(plane(r, true));
    }
    args.push_back(batch);
    b.CreateCall(fn, args);
  }
  b.CreateRetVoid();
  return f;
}

void ModuleEmitter::emitInfo(Function *eval, Function *ibp, const CrownLayout &lay,
                             const CrownFunctions &crown) {
  Type *i32 = Type::getInt32Ty(ctx_), *i64 = Type::getInt64Ty(ctx_);
  Type *ptr = PointerType::getUnqual(ctx_);
  // The struct type and the order of the initialisers come from the ABI
  // table (abi/KernelAbi.def); LLVM's natural struct layout matches the C
  // ABI's (AbiTableTest checks every offset).
  std::vector<Type *> fieldTypes;
  for (const abi::Field &f : abi::kFields)
    fieldTypes.push_back(f.kind == abi::FieldKind::I32   ? i32
                         : f.kind == abi::FieldKind::I64 ? i64
                                                         : ptr);
  StructType *infoTy = StructType::create(ctx_, fieldTypes, "gamma_kernel_info");
  auto str = [&](const std::string &s, const char *name) -> Constant * {
    Constant *init = ConstantDataArray::getString(ctx_, s);
    auto *gv = new GlobalVariable(*m_, init->getType(), true, GlobalValue::PrivateLinkage, init,
                                  name);
    gv->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    return gv;
  };
  auto shape = [&](const ir::Shape &sh, const char *name) -> Constant * {
    std::vector<uint64_t> dims(sh.begin(), sh.end());
    if (dims.empty())
      dims.push_back(1); // Never a zero-length array; rank says how many are valid.
    Constant *init = ConstantDataArray::get(ctx_, dims);
    return new GlobalVariable(*m_, init->getType(), true, GlobalValue::PrivateLinkage, init,
                              name);
  };
  Constant *null = ConstantPointerNull::get(cast<PointerType>(ptr));
  std::vector<Constant *> fields(abi::kFieldCount, nullptr);
  auto set = [&](std::string_view name, Constant *value) {
    size_t i = abi::fieldIndex(name);
    assert(i < abi::kFieldCount && !fields[i] && "not a field of abi/KernelAbi.def, or set twice");
    fields[i] = value;
  };
  set("abi_version", ConstantInt::get(i32, GAMMA_KERNEL_ABI_VERSION));
  set("model_name", str(opts_.modelName.value_or(plan_.modelName), "model_name"));
  set("compiler_version", str(GAMMA_VERSION, "compiler_version"));
  set("model_digest", str(opts_.modelDigest, "model_digest"));
  set("input_rank", ConstantInt::get(i32, plan_.inputShape.size()));
  set("input_shape", shape(plan_.inputShape, "input_shape"));
  set("output_rank", ConstantInt::get(i32, plan_.outputShape.size()));
  set("output_shape", shape(plan_.outputShape, "output_shape"));
  set("input_size", ConstantInt::get(i64, plan_.inputSize));
  set("output_size", ConstantInt::get(i64, plan_.outputSize));
  set("eval_scratch_floats_per_sample", ConstantInt::get(i64, plan_.arena));
  set("ibp_scratch_floats_per_sample", ConstantInt::get(i64, 2 * plan_.arena));
  set("eval", eval);
  set("ibp", ibp);
  set("crown_scratch_floats_base", ConstantInt::get(i64, crown.crown ? lay.scratchBase : 0));
  set("crown_scratch_floats_per_row", ConstantInt::get(i64, crown.crown ? lay.scratchPerRow : 0));
  set("grad_scratch_floats_per_sample", ConstantInt::get(i64, crown.grad ? lay.gradFloats : 0));
  set("crown", crown.crown ? static_cast<Constant *>(crown.crown) : null);
  set("grad", crown.grad ? static_cast<Constant *>(crown.grad) : null);
  // The weight table and where a library's .weights file holds it (the
  // digest only for libraries: a JIT reads the plan's arrays directly).
  WeightsFileLayout wl = layoutWeightsFile(plan_);
  std::vector<uint64_t> sizes, offsets;
  for (size_t i = 0; i < plan_.weights.size(); ++i) {
    sizes.push_back(static_cast<uint64_t>(plan_.weights[i].size));
    offsets.push_back(static_cast<uint64_t>(wl.offsets[i]));
  }
  auto i64Array = [&](std::vector<uint64_t> v, const char *name) -> Constant * {
    if (v.empty())
      v.push_back(0); // Never a zero-length array; weights_count says how many.
    Constant *init = ConstantDataArray::get(ctx_, v);
    return new GlobalVariable(*m_, init->getType(), true, GlobalValue::PrivateLinkage, init,
                              name);
  };
  set("weights_count", ConstantInt::get(i64, plan_.weights.size()));
  set("weights_sizes", i64Array(sizes, "weights_sizes"));
  set("weights_offsets", i64Array(offsets, "weights_offsets"));
  set("weights_file_bytes", ConstantInt::get(i64, wl.bytes));
  set("weights_digest",
      str(opts_.weightsDigest ? weightsFileDigest(plan_, wl) : std::string(), "weights_digest"));
  // The relaxed values of the crown kernel (none without one).
  std::vector<uint64_t> relSizes, relOffsets;
  std::vector<uint32_t> relKinds;
  std::vector<Constant *> relNames;
  if (crown.crown)
    for (size_t j = 0; j < lay.relaxed.size(); ++j) {
      const int32_t v = lay.relaxed[j];
      relSizes.push_back(static_cast<uint64_t>(lay.numel[v]));
      relOffsets.push_back(static_cast<uint64_t>(lay.relaxedOff[j]));
      relKinds.push_back(static_cast<uint32_t>(lay.relaxedKinds[j]));
      relNames.push_back(str(plan_.steps[lay.producer[v]].name, "relaxed_name"));
    }
  if (relKinds.empty())
    relKinds.push_back(0);
  if (relNames.empty())
    relNames.push_back(null);
  Constant *kindsInit = ConstantDataArray::get(ctx_, relKinds);
  auto *namesTy = ArrayType::get(ptr, relNames.size());
  set("relaxed_count", ConstantInt::get(i64, relSizes.size()));
  set("relaxed_sizes", i64Array(relSizes, "relaxed_sizes"));
  set("relaxed_offsets", i64Array(relOffsets, "relaxed_offsets"));
  set("relaxed_kinds", new GlobalVariable(*m_, kindsInit->getType(), true,
                                          GlobalValue::PrivateLinkage, kindsInit,
                                          "relaxed_kinds"));
  set("relaxed_names", new GlobalVariable(*m_, namesTy, true, GlobalValue::PrivateLinkage,
                                          ConstantArray::get(namesTy, relNames),
                                          "relaxed_names"));
  set("relaxed_floats", ConstantInt::get(i64, crown.crown ? lay.relaxedFloats : 0));
  for (size_t i = 0; i < abi::kFieldCount; ++i)
    if (!fields[i])
      report_fatal_error(Twine("the kernel descriptor's field '") + abi::kFields[i].name +
                         "' has no value");
  auto *info = new GlobalVariable(*m_, infoTy, true, GlobalValue::PrivateLinkage,
                                  ConstantStruct::get(infoTy, fields), opts_.prefix + ".info");
  info->setAlignment(Align(8));

  auto accessor = [&](const std::string &name) {
    Function *f = Function::Create(FunctionType::get(ptr, false), GlobalValue::ExternalLinkage,
                                   name, *m_);
    f->addFnAttr(Attribute::NoUnwind);
    IRBuilder<> b(BasicBlock::Create(ctx_, "entry", f));
    b.CreateRet(info);
  };
  accessor(opts_.prefix + "_info");
  if (opts_.libraryEntry)
    accessor("gamma_verifier_info");
}

} // namespace

std::unique_ptr<Module> emitKernelModule(const KernelPlan &plan, const EmitterOptions &opts,
                                         LLVMContext &ctx) {
  return ModuleEmitter(plan, opts, ctx).run();
}

} // namespace gma::codegen

//===- codegen/StepEmitters.h - The hooks the step records name --*- C++ -*-===//
//
// Declarations of the emitter functions codegen/StepRecords.cpp puts in the
// records (codegen/StepRecord.h documents the hook types). Each is defined
// beside the code it shares: affine in AffineEmitter.cpp, conv in
// ConvEmitter.cpp, the elementwise rules in KernelEmitter.cpp, the backward
// rules in CrownEmitter.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/StepRecord.h"

namespace gma::codegen {

// Whole-step emitters (StepFunctionHook).
llvm::Function *affineEvalStep(StepEmitContext &, const Step &, const StepBuffers &,
                               const std::string &);
llvm::Function *affineIbpStep(StepEmitContext &, const Step &, const StepBuffers &,
                              const std::string &);
llvm::Function *convEvalStep(StepEmitContext &, const Step &, const StepBuffers &,
                             const std::string &);
llvm::Function *convIbpStep(StepEmitContext &, const Step &, const StepBuffers &,
                            const std::string &);
llvm::Function *copyEvalStep(StepEmitContext &, const Step &, const StepBuffers &,
                             const std::string &);
llvm::Function *copyIbpStep(StepEmitContext &, const Step &, const StepBuffers &,
                            const std::string &);
llvm::Function *addSubEvalStep(StepEmitContext &, const Step &, const StepBuffers &,
                               const std::string &);
llvm::Function *addSubIbpStep(StepEmitContext &, const Step &, const StepBuffers &,
                              const std::string &);
llvm::Function *gatherEvalStep(StepEmitContext &, const Step &, const StepBuffers &,
                               const std::string &);
llvm::Function *maxEvalStep(StepEmitContext &, const Step &, const StepBuffers &,
                            const std::string &);
llvm::Function *maxIbpStep(StepEmitContext &, const Step &, const StepBuffers &,
                           const std::string &);
llvm::Function *gatherIbpStep(StepEmitContext &, const Step &, const StepBuffers &,
                              const std::string &);

/// The eval (ibp = false) or ibp step function of `s` from its record: the
/// whole-step hook, or the elementwise loop over its scalar rule.
llvm::Function *emitStepFunction(StepEmitContext &ctx, const Step &s, bool ibp,
                                 const StepBuffers &sb, const std::string &name);

// Scalar rules of the elementwise steps (ScalarEvalHook, ScalarIntervalHook).
llvm::Value *reluEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
std::pair<llvm::Value *, llvm::Value *> reluInterval(Builder &, const Step &,
                                                     llvm::Value *lo, llvm::Value *hi,
                                                     llvm::Value *c);
llvm::Value *leakyReluEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
std::pair<llvm::Value *, llvm::Value *> leakyReluInterval(Builder &, const Step &,
                                                          llvm::Value *lo, llvm::Value *hi,
                                                          llvm::Value *c);
llvm::Value *sigmoidEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
std::pair<llvm::Value *, llvm::Value *> sigmoidInterval(Builder &, const Step &,
                                                        llvm::Value *lo, llvm::Value *hi,
                                                        llvm::Value *c);
llvm::Value *softplusEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
llvm::Value *tanhEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
llvm::Value *expEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
std::pair<llvm::Value *, llvm::Value *> scalarInterval(Builder &, const Step &,
                                                       llvm::Value *lo, llvm::Value *hi,
                                                       llvm::Value *c);
llvm::Value *negEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
std::pair<llvm::Value *, llvm::Value *> negInterval(Builder &, const Step &,
                                                    llvm::Value *lo, llvm::Value *hi,
                                                    llvm::Value *c);
llvm::Value *binaryConstEval(Builder &, const Step &, llvm::Value *x, llvm::Value *c);
std::pair<llvm::Value *, llvm::Value *> binaryConstInterval(Builder &, const Step &,
                                                            llvm::Value *lo, llvm::Value *hi,
                                                            llvm::Value *c);

// Backward rules (CrownRuleHook).
llvm::Function *affineCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);
llvm::Function *convCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);
llvm::Function *reluCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);
llvm::Function *scalarCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);
llvm::Function *binaryConstCrownRule(CrownEmitter &, const Step &, CrownMode,
                                     const std::string &);
/// Neg, copy and x ± y: exact terms, charged only for a shared operand.
llvm::Function *linearCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);
/// Index-map ops: Λ's columns scattered to their sources (exact terms), the
/// constants' columns into c.
llvm::Function *gatherCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);
/// max(a, b) = a + relu(b - a): ReLU's lines on b - a (ir/ops/Activations.cpp's crownMax).
llvm::Function *maxCrownRule(CrownEmitter &, const Step &, CrownMode, const std::string &);

} // namespace gma::codegen

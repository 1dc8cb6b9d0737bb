//===- codegen/StepRecords.cpp - The step records ---------------------------===//
//
// One record per StepKind (codegen/StepRecord.h), by designated initialisers:
// a field left out is "not applicable". The hooks are defined next to the
// code they share (codegen/StepEmitters.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/StepEmitters.h"

#include <algorithm>
#include <array>
#include <cassert>

namespace gma::codegen {
namespace {

int64_t affineTerms(const Step &s, size_t) { return s.n; }
int64_t affineTmp(const Step &s) { return s.rows * s.n; }
/// Each input element is read by at most (M/group)·prod(kernel) taps (as
/// ir/ops/Conv.cpp's convTerms).
int64_t convTerms(const Step &s, size_t) {
  int64_t k = 1;
  for (int64_t d : s.conv->kernel)
    k *= d;
  return std::max<int64_t>(1, s.conv->M / s.conv->group * k);
}
int64_t convTmp(const Step &s) { return s.out.numel; } // q per output
/// Gather: the most results that read one element of operand k (the
/// lowering counted them from the source map, as ir/ops/Views.cpp's
/// gatherTerms).
int64_t gatherTerms(const Step &s, size_t k) { return s.gatherTerms.at(k); }
/// Max: per neuron the lower line (2), the upper line (3), m_a, m_b and the
/// upper line's two product charges.
int64_t maxTmp(const Step &s) { return 9 * s.out.numel; }
/// ReLU: a, s, t, m per neuron; a scalar-table function: two lines (4
/// doubles) and m.
int64_t reluTmp(const Step &s) { return 5 * s.out.numel; } // a, s, t, m, γ of λ·a
int64_t scalarTmp(const Step &s) { return 5 * s.out.numel; }

/// A function of the scalar table (abi/ScalarRelax.h): its own f32 eval,
/// the table's lines for every neuron, and by default the table's f for IBP.
constexpr StepRecord scalarStep(StepKind kind, const char *name, ScalarEvalHook eval,
                                ScalarIntervalHook interval = scalarInterval) {
  return {.kind = kind,
          .name = name,
          .scalarEval = eval,
          .scalarInterval = interval,
          .crownRule = scalarCrownRule,
          .relaxation = Relaxation::AllNeurons,
          .ruleTakesBounds = true,
          .crownTmpDoubles = scalarTmp};
}

constexpr StepRecord kRecords[] = {
    {.kind = StepKind::Affine,
     .name = "affine",
     .fixedOperands = true,
     .eval = affineEvalStep,
     .ibp = affineIbpStep,
     .crownRule = affineCrownRule,
     .ruleTakesBounds = true,
     .termsPerOperand = affineTerms,
     .crownTmpDoubles = affineTmp},
    {.kind = StepKind::Conv,
     .name = "conv",
     .fixedOperands = true,
     .eval = convEvalStep,
     .ibp = convIbpStep,
     .wantsSlpVectorizer = true,
     .crownRule = convCrownRule,
     .ruleTakesBounds = true,
     .termsPerOperand = convTerms,
     .crownTmpDoubles = convTmp},
    {.kind = StepKind::Relu,
     .name = "relu",
     .scalarEval = reluEval,
     .scalarInterval = reluInterval,
     .crownRule = reluCrownRule,
     .relaxation = Relaxation::UnstableNeurons,
     .ruleTakesBounds = true,
     .parallelVariant = true,
     .takesLowerSlopes = true,
     .crownTmpDoubles = reluTmp},
    {.kind = StepKind::LeakyRelu,
     .name = "leaky-relu",
     .scalarEval = leakyReluEval,
     .scalarInterval = leakyReluInterval,
     .crownRule = reluCrownRule, // the ReLU rule with the step's alpha
     .relaxation = Relaxation::UnstableNeurons,
     .ruleTakesBounds = true,
     .parallelVariant = true,
     .takesLowerSlopes = true,
     .crownTmpDoubles = reluTmp},
    // sigmoid's ibp step computes σ inline (vectorised), the same double
    // operations as the table's row.
    scalarStep(StepKind::Sigmoid, "sigmoid", sigmoidEval, sigmoidInterval),
    scalarStep(StepKind::Tanh, "tanh", tanhEval),
    scalarStep(StepKind::Exp, "exp", expEval),
    scalarStep(StepKind::Softplus, "softplus", softplusEval),
    {.kind = StepKind::Neg,
     .name = "neg",
     .scalarEval = negEval,
     .scalarInterval = negInterval,
     .crownRule = linearCrownRule},
    {.kind = StepKind::BinaryConst,
     .name = "binary-const",
     .scalarEval = binaryConstEval,
     .scalarInterval = binaryConstInterval,
     .crownRule = binaryConstCrownRule,
     .ruleTakesBounds = true},
    {.kind = StepKind::BinaryAct,
     .name = "binary-act",
     .eval = addSubEvalStep,
     .ibp = addSubIbpStep,
     .crownRule = linearCrownRule},
    {.kind = StepKind::Max,
     .name = "max",
     .eval = maxEvalStep,
     .ibp = maxIbpStep,
     .crownRule = maxCrownRule,
     .ruleTakesOperandBounds = true,
     .crownTmpDoubles = maxTmp},
    {.kind = StepKind::Gather,
     .name = "gather",
     .eval = gatherEvalStep,
     .ibp = gatherIbpStep,
     .crownRule = gatherCrownRule,
     .termsPerOperand = gatherTerms},
    {.kind = StepKind::Copy,
     .name = "copy",
     .eval = copyEvalStep,
     .ibp = copyIbpStep,
     .crownRule = linearCrownRule},
};
static_assert(std::size(kRecords) == kNumStepKinds, "one record per GAMMA_STEP");

constexpr bool inEnumOrder() {
  for (int i = 0; i < kNumStepKinds; ++i)
    if (static_cast<int>(kRecords[i].kind) != i)
      return false;
  return true;
}
static_assert(inEnumOrder(), "records in the order of codegen/Steps.def");

} // namespace

const StepRecord &stepRecord(StepKind kind) {
  int i = static_cast<int>(kind);
  assert(i >= 0 && i < kNumStepKinds);
  return kRecords[i];
}

bool wantsSlpVectorizer(const KernelPlan &plan) {
  for (const Step &s : plan.steps)
    if (stepRecord(s).wantsSlpVectorizer)
      return true;
  return false;
}

} // namespace gma::codegen

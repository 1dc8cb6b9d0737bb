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

int64_t affineTerms(const Step &s) { return s.n; }
int64_t affineTmp(const Step &s) { return s.rows * s.n; }
/// Each input element is read by at most (M/group)·prod(kernel) taps (as
/// ir/ops/Conv.cpp's convTerms).
int64_t convTerms(const Step &s) {
  int64_t k = 1;
  for (int64_t d : s.conv->kernel)
    k *= d;
  return std::max<int64_t>(1, s.conv->M / s.conv->group * k);
}
int64_t convTmp(const Step &s) { return s.out.numel; } // q per output
/// ReLU: a, s, t, m per neuron; sigmoid: two lines (4 doubles) and m.
int64_t reluTmp(const Step &s) { return 4 * s.out.numel; }
int64_t sigmoidTmp(const Step &s) { return 5 * s.out.numel; }

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
     .crownTmpDoubles = reluTmp},
    {.kind = StepKind::LeakyRelu,
     .name = "leaky-relu",
     .scalarEval = leakyReluEval,
     .scalarInterval = leakyReluInterval,
     .crownRule = reluCrownRule, // the ReLU rule with the step's alpha
     .relaxation = Relaxation::UnstableNeurons,
     .ruleTakesBounds = true,
     .parallelVariant = true,
     .crownTmpDoubles = reluTmp},
    {.kind = StepKind::Sigmoid,
     .name = "sigmoid",
     .scalarEval = sigmoidEval,
     .scalarInterval = sigmoidInterval,
     .crownRule = sigmoidCrownRule,
     .relaxation = Relaxation::AllNeurons,
     .ruleTakesBounds = true,
     .crownTmpDoubles = sigmoidTmp},
    {.kind = StepKind::Tanh,
     .name = "tanh",
     .scalarEval = tanhEval,
     .scalarInterval = scalarInterval,
     .crownRule = sigmoidCrownRule,
     .relaxation = Relaxation::AllNeurons,
     .ruleTakesBounds = true,
     .crownTmpDoubles = sigmoidTmp},
    {.kind = StepKind::Exp,
     .name = "exp",
     .scalarEval = expEval,
     .scalarInterval = scalarInterval,
     .crownRule = sigmoidCrownRule,
     .relaxation = Relaxation::AllNeurons,
     .ruleTakesBounds = true,
     .crownTmpDoubles = sigmoidTmp},
    {.kind = StepKind::Softplus,
     .name = "softplus",
     .scalarEval = softplusEval,
     .scalarInterval = scalarInterval, // the table's f, the same object as ir::ibp
     .crownRule = sigmoidCrownRule,    // the lines of the step's scalarFn
     .relaxation = Relaxation::AllNeurons,
     .ruleTakesBounds = true,
     .crownTmpDoubles = sigmoidTmp},
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

} // namespace gma::codegen

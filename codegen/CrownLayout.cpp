//===- codegen/CrownLayout.cpp - Scratch layout of the CROWN kernels ------===//
//
// 1. Value sizes, producers and bound slots (one per produced value).
// 2. For the output and for every ReLU input, the backward pass: the steps
//    that lead from the target back to the input, in reverse schedule order
//    (the order ir::crown visits them), and the live range of each Λ
//    [first step that writes it, step that reads it].
// 3. Λ offsets: greedy first fit over the live ranges, in order of birth.
// 4. Scratch sizes from the largest pass.
//
//===----------------------------------------------------------------------===//
#include "codegen/CrownLayout.h"
#include "codegen/StepRecord.h"

#include "abi/KernelAbi.h"

#include <algorithm>
#include <fmt/format.h>

namespace gma::codegen {
namespace {

int64_t align16(int64_t n) { return (n + 15) / 16 * 16; }

CrownPass planPass(const KernelPlan &plan, const CrownLayout &lay, int32_t target) {
  CrownPass pass;
  pass.target = target;
  const size_t nv = static_cast<size_t>(plan.numValues);
  std::vector<bool> reach(nv, false);
  reach[target] = true;
  for (int i = lay.producer[target]; i >= 0; --i) {
    const Step &s = plan.steps[i];
    if (!reach[s.outValue])
      continue;
    pass.steps.push_back(i);
    for (int32_t v : s.inValues)
      reach[v] = true;
  }
  const int64_t end = static_cast<int64_t>(pass.steps.size());
  // Live ranges [born, dies] in positions; the target is filled before
  // position 0, the input read after the last step.
  std::vector<int64_t> born(nv, -2), dies(nv, -2);
  born[target] = -1;
  for (int64_t p = 0; p < end; ++p) {
    const Step &s = plan.steps[pass.steps[p]];
    dies[s.outValue] = p;
    for (int32_t v : s.inValues)
      if (born[v] == -2)
        born[v] = p;
  }
  int32_t in = plan.inputValue;
  if (born[in] == -2)
    born[in] = end; // The target does not depend on x: Λ_in is zero.
  dies[in] = end;
  if (target == in)
    born[in] = -1;

  std::vector<int32_t> order;
  for (size_t v = 0; v < nv; ++v)
    if (born[v] != -2)
      order.push_back(static_cast<int32_t>(v));
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return born[a] < born[b]; });
  pass.lamOffset.assign(nv, -1);
  pass.bornAt.assign(static_cast<size_t>(end + 1), {});
  std::vector<int32_t> placed;
  for (int32_t v : order) {
    // Lowest offset that overlaps no placed Λ whose live range meets v's.
    std::vector<int64_t> candidates = {0};
    for (int32_t w : placed)
      candidates.push_back(pass.lamOffset[w] + lay.numel[w]);
    std::sort(candidates.begin(), candidates.end());
    int64_t chosen = 0;
    for (int64_t c : candidates) {
      bool ok = true;
      for (int32_t w : placed) {
        bool timeOverlap = born[w] <= dies[v] && born[v] <= dies[w];
        bool spaceOverlap = c < pass.lamOffset[w] + lay.numel[w] && pass.lamOffset[w] < c + lay.numel[v];
        if (timeOverlap && spaceOverlap) {
          ok = false;
          break;
        }
      }
      if (ok) {
        chosen = c;
        break;
      }
    }
    pass.lamOffset[v] = chosen;
    pass.peak = std::max(pass.peak, chosen + lay.numel[v]);
    placed.push_back(v);
    if (born[v] >= 0)
      pass.bornAt[born[v]].push_back(v);
  }
  return pass;
}

} // namespace

CrownLayout computeCrownLayout(const KernelPlan &plan) {
  CrownLayout lay;
  const size_t nv = static_cast<size_t>(plan.numValues);
  lay.numel.assign(nv, 0);
  lay.boundsOff.assign(nv, -1);
  lay.producer.assign(nv, -1);
  lay.numel[plan.inputValue] = plan.inputSize;

  int64_t off = 0, tmp = 0, idx = 0;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const Step &s = plan.steps[i];
    lay.numel[s.outValue] = s.out.numel;
    lay.producer[s.outValue] = static_cast<int>(i);
    lay.boundsOff[s.outValue] = off;
    off += align16(2 * s.out.numel);
    const StepRecord &rec = stepRecord(s);
    tmp = std::max(tmp, rec.tmpDoubles(s));
    if (rec.relaxed())
      idx = std::max(idx, s.out.numel); // the indices of the neurons to tighten
  }
  lay.tmpOff = off;
  lay.tmpDoubles = tmp;
  lay.idxOff = lay.tmpOff + align16(2 * tmp);
  lay.flagOff = lay.idxOff + align16(2 * idx);
  lay.dynOff = lay.flagOff + 16;

  for (const Step &s : plan.steps) {
    const StepRecord &rec = stepRecord(s);
    if (!rec.relaxed() || s.inValues[0] == plan.inputValue)
      continue;
    const int32_t v = s.inValues[0];
    const int32_t bit = rec.takesLowerSlopes ? GAMMA_RELAXED_PIECEWISE : GAMMA_RELAXED_SMOOTH;
    auto it = std::find(lay.relaxed.begin(), lay.relaxed.end(), v);
    if (it != lay.relaxed.end()) {
      lay.relaxedKinds[static_cast<size_t>(it - lay.relaxed.begin())] |= bit;
      continue;
    }
    lay.relaxed.push_back(v);
    lay.relaxedOff.push_back(lay.relaxedFloats);
    lay.relaxedKinds.push_back(bit);
    lay.relaxedFloats += lay.numel[v];
  }

  // Each intermediate pass runs back to the input, so the kernels' code (and
  // this layout) grows with the square of the depth. Past a budget, counted
  // before any pass is planned, the model gets eval and ibp kernels only
  // (branch and bound then bounds with IBP) instead of code that takes
  // minutes to compile.
  // A step without a backward rule in the kernels (conv, so far): eval and
  // ibp kernels only; gamma bounds such a model with ir::crown.
  if (const Step *s = stepWithoutCrownRule(plan)) {
    lay.unsupportedReason =
        fmt::format("the kernels have no CROWN rule for {} ('{}')", stepRecord(*s).name, s->name);
    return lay;
  }

  int64_t steps = static_cast<int64_t>(plan.steps.size());
  for (const Step &s : plan.steps) {
    if (stepRecord(s).relaxed() && s.inValues[0] != plan.inputValue)
      steps += lay.producer[s.inValues[0]] + 1; // at most this pass's length
  }
  if (steps > kMaxCrownPassSteps) {
    lay.unsupportedReason = fmt::format(
        "the CROWN passes would take up to {} backward steps (more than {}; they grow with the "
        "square of the depth)",
        steps, kMaxCrownPassSteps);
    return lay;
  }

  int64_t dynFixed = 0;
  for (const Step &s : plan.steps) {
    if (!stepRecord(s).relaxed() || s.inValues[0] == plan.inputValue ||
        lay.intermediate.count(s.inValues[0]))
      continue;
    CrownPass pass = planPass(plan, lay, s.inValues[0]);
    int64_t rows = 2 * lay.numel[pass.target];
    dynFixed = std::max(dynFixed, 2 * rows * (pass.peak + 3));
    lay.intermediate.emplace(pass.target, std::move(pass));
  }
  lay.final = planPass(plan, lay, plan.outputValue);
  lay.scratchBase = align16(lay.dynOff + dynFixed);
  lay.scratchPerRow = align16(2 * (lay.final.peak + 3));
  lay.gradFloats = align16(lay.dynOff + 2 * (lay.final.peak + 3));

  // Each pass keeps a dense Λ: past a budget, no crown kernels either.
  if (lay.scratchBase > kMaxCrownScratchFloats) {
    lay.unsupportedReason =
        fmt::format("CROWN would need {:.3g} GB of scratch per box", lay.scratchBase * 4e-9);
    return lay;
  }
  lay.supported = true;
  return lay;
}

} // namespace gma::codegen

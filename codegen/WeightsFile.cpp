//===- codegen/WeightsFile.cpp - The .weights file of a library -----------===//
//
// See WeightsFile.h. The bytes come from forEachWeightsFileChunk alone, for
// both the digest and the file, so the two cannot describe different files.
//
//===----------------------------------------------------------------------===//
#include "codegen/WeightsFile.h"

#include "abi/KernelAbi.h"
#include "support/Hash.h"

namespace gma::codegen {

namespace {

constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

} // namespace

WeightsFileLayout layoutWeightsFile(const KernelPlan &plan) {
  WeightsFileLayout l;
  int64_t at = GAMMA_WEIGHTS_HEADER_BYTES;
  for (const ConstData &c : plan.weights) {
    at = alignUp(at);
    l.offsets.push_back(at);
    at += c.size * static_cast<int64_t>(sizeof(float));
  }
  l.bytes = alignUp(at);
  return l;
}

void forEachWeightsFileChunk(const KernelPlan &plan, const WeightsFileLayout &layout,
                             const std::function<void(const void *, size_t)> &chunk) {
  static const char zeros[kAlign] = {};
  char header[GAMMA_WEIGHTS_HEADER_BYTES] = {'G', 'A', 'M', 'M', 'A', 'W', 'T', '1'};
  chunk(header, sizeof header);
  int64_t at = GAMMA_WEIGHTS_HEADER_BYTES;
  for (size_t i = 0; i < plan.weights.size(); ++i) {
    chunk(zeros, static_cast<size_t>(layout.offsets[i] - at));
    static_assert(sizeof(float) == 4, "f32 weights");
    size_t bytes = static_cast<size_t>(plan.weights[i].size) * sizeof(float);
    chunk(plan.weights[i].data, bytes);
    at = layout.offsets[i] + static_cast<int64_t>(bytes);
  }
  chunk(zeros, static_cast<size_t>(layout.bytes - at));
}

std::string weightsFileDigest(const KernelPlan &plan, const WeightsFileLayout &layout) {
  support::Hasher h;
  forEachWeightsFileChunk(plan, layout, [&](const void *p, size_t n) { h.bytes(p, n); });
  return h.hex();
}

} // namespace gma::codegen

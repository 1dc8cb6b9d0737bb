//===- tools/gamma/Engines.cpp - Bound engines for gamma verify -----------===//
#include "tools/gamma/Engines.h"

#include "ir/Crown.h"
#include "ir/Interpreter.h"

#include <cassert>
#include <cstdlib>
#include <limits>
#include <memory>

namespace gma::tools {

ReferenceEngine::ReferenceEngine(const ir::Graph &graph, const gamma_kernel_info *kernels,
                                 const float *const *weights)
    : graph_(graph), kernels_(kernels), weights_(weights) {
  assert(graph.inputs.size() == 1 && graph.outputs.size() == 1 && "one input and one output");
  inSize_ = graph.type(graph.inputs[0]).numel();
  outSize_ = graph.type(graph.outputs[0]).numel();
  assert((!kernels || (kernels->input_size == inSize_ && kernels->output_size == outSize_)) &&
         "kernels of another model");
}

void ReferenceEngine::eval(const float *x, float *y, int64_t batch) const {
  if (batch <= 0)
    return;
  if (kernels_) {
    // Per-call scratch keeps concurrent calls independent.
    size_t bytes = static_cast<size_t>(kernels_->eval_scratch_floats_per_sample * batch) *
                   sizeof(float);
    bytes = (bytes + 63) / 64 * 64 + 64;
    std::unique_ptr<float, void (*)(void *)> scratch(
        static_cast<float *>(std::aligned_alloc(64, bytes)), std::free);
    assert(scratch && "out of memory allocating eval scratch");
    kernels_->eval(weights_, x, y, batch, scratch.get());
    return;
  }
  std::vector<float> in(x, x + inSize_ * batch);
  auto out = ir::evaluate(graph_, {in}, batch);
  assert(out && "the interpreter failed on a graph it imported");
  std::copy(out->front().begin(), out->front().end(), y);
}

Status ReferenceEngine::lowerBounds(const float *lo, const float *hi, int64_t batch,
                                    const double *C, int64_t rows, float *lower,
                                    float *inputCoefs) const {
  std::vector<double> spec(C, C + rows * outSize_);
  ir::CrownOptions opts;
  opts.wantInputCoefs = inputCoefs != nullptr;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<float> l(lo + b * inSize_, lo + (b + 1) * inSize_);
    std::vector<float> h(hi + b * inSize_, hi + (b + 1) * inSize_);
    auto r = ir::crown(graph_, l, h, spec, rows, opts);
    if (!r)
      return r.takeError();
    std::copy(r->lower.begin(), r->lower.end(), lower + b * rows);
    if (inputCoefs)
      for (int64_t k = 0; k < rows; ++k) {
        float *row = inputCoefs + (b * rows + k) * (inSize_ + 1);
        std::copy_n(r->inputCoefs.begin() + k * inSize_, inSize_, row);
        row[inSize_] = r->inputOffsets[k];
      }
  }
  return Status::ok();
}

void ReferenceEngine::gradient(const float *x, const double *c, float *grad,
                               int64_t batch) const {
  std::vector<double> cv(c, c + outSize_);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<float> xb(x + b * inSize_, x + (b + 1) * inSize_);
    auto g = ir::inputGradient(graph_, xb, cv);
    if (!g) { // an op without a gradient rule: no direction, PGD stays put
      std::fill(grad + b * inSize_, grad + (b + 1) * inSize_, 0.0f);
      continue;
    }
    std::copy(g->begin(), g->end(), grad + b * inSize_);
  }
}

} // namespace gma::tools

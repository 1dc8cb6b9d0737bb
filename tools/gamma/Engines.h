//===- tools/gamma/Engines.h - Bound engines for gamma verify ---*- C++ -*-===//
//
// BoundEngine implementations the tools can build from a model:
//
// - ReferenceEngine: sound lower bounds by the reference CROWN of the IR
//   (ir::crown, in double, one box at a time) and gradients by ir::inputGradient;
//   concrete evaluation by compiled `eval` kernels when given (fast, and the
//   same f32 code a deployed verifier runs), else by the IR interpreter.
//
// A kernel engine over compiled `crown`/`grad` kernels (kernel ABI 2) will
// replace the reference CROWN once those kernels exist.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/BoundEngine.h"
#include "abi/KernelAbi.h"

namespace gma::tools {

class ReferenceEngine : public runtime::BoundEngine {
public:
  /// `graph` (one input, one output; CROWN-supported ops) must outlive the
  /// engine, as must `kernels` and their weight table if not null.
  ReferenceEngine(const ir::Graph &graph, const gamma_kernel_info *kernels,
                  const float *const *weights);

  int64_t inputSize() const override { return inSize_; }
  int64_t outputSize() const override { return outSize_; }
  void eval(const float *x, float *y, int64_t batch) const override;
  Status lowerBounds(const float *lo, const float *hi, int64_t batch, const double *C,
                     int64_t rows, float *lower, float *inputCoefs) const override;
  void gradient(const float *x, const double *c, float *grad, int64_t batch) const override;

private:
  const ir::Graph &graph_;
  const gamma_kernel_info *kernels_;
  const float *const *weights_;
  int64_t inSize_, outSize_;
};

} // namespace gma::tools

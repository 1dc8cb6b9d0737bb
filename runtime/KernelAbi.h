/*===- runtime/KernelAbi.h - The C ABI of compiled verifier kernels -------===*
 *
 * A compiled verifier (a shared library written by gammac, or code JIT-compiled
 * in process) exposes exactly one descriptor, returned by
 * `<prefix>_info()` and, in a shared library, also by `gamma_verifier_info()`.
 * The runtime sees models only through this struct: it knows nothing of ONNX
 * or the IR.
 *
 * Memory: the caller owns every buffer. Kernels never allocate; each call needs
 * a scratch buffer of `*_scratch_floats_per_sample * batch` floats (crown:
 * gamma_crown_scratch_floats()), aligned to 64 bytes. Kernels are reentrant: concurrent calls with distinct scratch
 * buffers are safe.
 *
 * Layout: a batch of B samples, each a dense row-major tensor of the model's
 * input (output) shape, stored one after another.
 *===----------------------------------------------------------------------===*/
#ifndef GAMMA_RUNTIME_KERNELABI_H
#define GAMMA_RUNTIME_KERNELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GAMMA_KERNEL_ABI_VERSION 4

/* Concrete forward pass in f32: y = f(x). */
typedef void (*gamma_eval_fn)(const float *x, float *y, int64_t batch, float *scratch);

/* Interval forward pass (IBP): for every x with xlo <= x <= xhi, the exact
 * (real-arithmetic) f(x) lies in [ylo, yhi]. See docs/soundness.md. */
typedef void (*gamma_ibp_fn)(const float *xlo, const float *xhi, float *ylo, float *yhi,
                             int64_t batch, float *scratch);

/* CROWN (backward linear bound propagation; ir/Crown.h is the reference):
 * for each box b (xlo/xhi: batch × input_size) and row r of C (rows ×
 * output_size, row-major, shared by all boxes), lower[b*rows + r] <= the
 * minimum over the box of (C·f(x))_r for the exact (real-arithmetic) f. If
 * input_coefs is not NULL it receives, per box and row, input_size + 1
 * floats (batch × rows × (input_size + 1) in all): the coefficients a and
 * the offset o of a linear lower bound that holds on the box,
 * (C·f(x))_r >= Σ_k a_k·x_k + o with exact sums (since ABI version 3; the
 * row bound `lower` may be tighter, e.g. from the interval bounds). Scratch: per box
 * crown_scratch_floats_base + crown_scratch_floats_per_row * rows floats
 * (see gamma_crown_scratch_floats below); boxes are processed one at a time,
 * each in its own slice. */
typedef void (*gamma_crown_fn)(const float *xlo, const float *xhi, const double *C, int64_t rows,
                               float *lower, float *input_coefs, int64_t batch, float *scratch);

/* Gradient of c·f(x) with respect to x at each of `batch` points (c has
 * output_size entries, shared by all points); ReLU's derivative at 0 is 0. */
typedef void (*gamma_grad_fn)(const float *x, const double *c, float *grad, int64_t batch,
                              float *scratch);

typedef struct gamma_kernel_info {
  uint32_t abi_version;          /* GAMMA_KERNEL_ABI_VERSION */
  const char *model_name;        /* graph name */
  const char *compiler_version;  /* gamma version that generated the code */
  /* Since ABI version 4: the digest (BLAKE3, 64 hex digits) of the model
   * file and every external-data file it names; never empty. A library is
   * only used with the model it was compiled from (support/Hash.h). */
  const char *model_digest;
  int32_t input_rank;
  const int64_t *input_shape;    /* per sample */
  int32_t output_rank;
  const int64_t *output_shape;   /* per sample */
  int64_t input_size;            /* floats per sample */
  int64_t output_size;           /* floats per sample */
  int64_t eval_scratch_floats_per_sample;
  int64_t ibp_scratch_floats_per_sample;
  gamma_eval_fn eval;
  gamma_ibp_fn ibp;
  /* Since ABI version 2 (version 3: crown's input_coefs carry offsets).
   * crown and grad are NULL (and their sizes 0) when the model uses an op
   * without a CROWN rule in the kernels (sigmoid). */
  int64_t crown_scratch_floats_base;
  int64_t crown_scratch_floats_per_row;
  int64_t grad_scratch_floats_per_sample;
  gamma_crown_fn crown;
  gamma_grad_fn grad;
} gamma_kernel_info;

/* Scratch floats for one crown call over `batch` boxes of `rows` rows. */
static inline int64_t gamma_crown_scratch_floats(const gamma_kernel_info *info, int64_t rows,
                                                 int64_t batch) {
  return (info->crown_scratch_floats_base + info->crown_scratch_floats_per_row * rows) * batch;
}

typedef const gamma_kernel_info *(*gamma_info_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* GAMMA_RUNTIME_KERNELABI_H */

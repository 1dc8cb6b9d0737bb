/*===- abi/KernelAbi.h - The C ABI of compiled verifier kernels -----------===*
 *
 * A compiled verifier (a shared library written by gammac, or code JIT-compiled
 * in process) exposes exactly one descriptor, returned by
 * `<prefix>_info()` and, in a shared library, also by `gamma_verifier_info()`.
 * The runtime sees models only through this struct: it knows nothing of ONNX
 * or the IR. The declarations are expanded from abi/KernelAbi.def, which
 * documents each kernel and field; every generated header carries the same
 * declarations under the same guard.
 *
 * Memory: the caller owns every buffer. Kernels never allocate; each call needs
 * a scratch buffer of `*_scratch_floats_per_sample * batch` floats (crown:
 * gamma_crown_scratch_floats()), aligned to 64 bytes. Kernels are reentrant:
 * concurrent calls with distinct scratch buffers are safe.
 *
 * Layout: a batch of B samples, each a dense row-major tensor of the model's
 * input (output) shape, stored one after another.
 *===----------------------------------------------------------------------===*/
#ifndef GAMMA_KERNEL_ABI_H
#define GAMMA_KERNEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GAMMA_ABI_VERSION(n) enum { GAMMA_KERNEL_ABI_VERSION_VALUE = n };
#define GAMMA_ABI_FN(name, params, doc) typedef void(*gamma_##name##_fn) params;
#include "abi/KernelAbi.def"

typedef struct gamma_kernel_info {
#define GAMMA_ABI_FIELD(type, name, kind, doc) type name;
#include "abi/KernelAbi.def"
} gamma_kernel_info;

#define GAMMA_ABI_CODE(...) __VA_ARGS__
#include "abi/KernelAbi.def"

#define GAMMA_KERNEL_ABI_VERSION ((uint32_t)GAMMA_KERNEL_ABI_VERSION_VALUE)

#ifdef __cplusplus
}
#endif

#endif /* GAMMA_KERNEL_ABI_H */

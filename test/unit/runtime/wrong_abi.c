/* A verifier library from a future ABI: the runtime must refuse it. */
#include "abi/KernelAbi.h"

static void evalStub(const float *x, float *y, int64_t batch, float *scratch) {
  (void)x, (void)y, (void)batch, (void)scratch;
}
static void ibpStub(const float *a, const float *b, float *c, float *d, int64_t n, float *s) {
  (void)a, (void)b, (void)c, (void)d, (void)n, (void)s;
}
static const int64_t shape[1] = {1};
static const gamma_kernel_info info = {GAMMA_KERNEL_ABI_VERSION + 1, "stale", "9.9.9", 0, 1, shape,
                                       1, shape, 1, 1, 0, 0, evalStub, ibpStub};
const gamma_kernel_info *gamma_verifier_info(void) { return &info; }

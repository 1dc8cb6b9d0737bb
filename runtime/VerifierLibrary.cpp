//===- runtime/VerifierLibrary.cpp - Loading and calling kernels ----------===//
//
// dlopen's a library written by gammac, finds `gamma_verifier_info`, and
// refuses descriptors of another ABI version before any kernel is called.
// Libraries are opened RTLD_LOCAL: several compiled models (all exporting
// gamma_verifier_info) can be loaded side by side.
//
//===----------------------------------------------------------------------===//
#include "runtime/VerifierLibrary.h"

#include <cstdlib>
#include <new>
#include <cstring>
#include <dlfcn.h>
#include <fmt/format.h>

namespace gma::runtime {

namespace {

Error loadError(ErrorCode code, const std::string &path, std::string msg) {
  Location loc;
  loc.file = path;
  return Error(code, std::move(msg), std::move(loc));
}

} // namespace

Expected<std::unique_ptr<VerifierLibrary>> VerifierLibrary::open(const std::string &path) {
  // dlopen searches the library path for a bare name; a user's `lib.so`
  // means the file in the current folder.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return loadError(ErrorCode::VerifierLoad, path,
                     fmt::format("cannot load the verifier library: {}", why ? why : "unknown"));
  }
  dlerror();
  auto infoFn = reinterpret_cast<gamma_info_fn>(dlsym(handle, "gamma_verifier_info"));
  if (!infoFn) {
    dlclose(handle);
    return loadError(ErrorCode::VerifierLoad, path,
                     "not a gamma verifier library: it does not define gamma_verifier_info");
  }
  const gamma_kernel_info *info = infoFn();
  if (!info) {
    dlclose(handle);
    return loadError(ErrorCode::VerifierMismatch, path,
                     "gamma_verifier_info() returned no descriptor");
  }
  if (info->abi_version != GAMMA_KERNEL_ABI_VERSION) {
    uint32_t got = info->abi_version;
    dlclose(handle);
    return loadError(ErrorCode::VerifierMismatch, path,
                     fmt::format("kernel ABI version {} does not match this runtime's version "
                                 "{}; recompile the model with this gammac",
                                 got, GAMMA_KERNEL_ABI_VERSION));
  }
  if (!info->eval || !info->ibp) {
    dlclose(handle);
    return loadError(ErrorCode::VerifierMismatch, path, "the descriptor lacks eval or ibp");
  }
  return std::unique_ptr<VerifierLibrary>(new VerifierLibrary(handle, info));
}

VerifierLibrary::~VerifierLibrary() {
  if (handle_)
    dlclose(handle_);
}

float *Kernels::scratch(int64_t floats) {
  if (floats <= capacity_)
    return buf_.get();
  // A size that overflows, or memory that cannot be had (or exceeds
  // --memory-limit), is std::bad_alloc: the tools report it as the coded
  // OutOfMemory error, never a crash.
  constexpr int64_t kMaxFloats = (int64_t(1) << 62) / int64_t(sizeof(float));
  if (floats < 0 || floats > kMaxFloats)
    throw std::bad_alloc();
  // Round up to the 64-byte alignment that aligned_alloc requires of sizes.
  size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
  auto *p = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!p)
    throw std::bad_alloc();
  buf_ = std::unique_ptr<float[], void (*)(void *)>(p, std::free);
  capacity_ = static_cast<int64_t>(bytes / sizeof(float));
  return p;
}

void Kernels::eval(const float *x, float *y, int64_t batch) {
  info_->eval(x, y, batch, scratch(info_->eval_scratch_floats_per_sample * batch));
}

void Kernels::ibp(const float *xlo, const float *xhi, float *ylo, float *yhi, int64_t batch) {
  info_->ibp(xlo, xhi, ylo, yhi, batch, scratch(info_->ibp_scratch_floats_per_sample * batch));
}

} // namespace gma::runtime

namespace gma::runtime {

Status Kernels::crown(const float *xlo, const float *xhi, const double *C, int64_t rows,
                      float *lower, float *inputCoefs, int64_t batch) {
  if (!info_->crown)
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("model '{}' was compiled without crown kernels (too deep or too "
                             "wide for them; its header says why): use --method ibp",
                             info_->model_name));
  info_->crown(xlo, xhi, C, rows, lower, inputCoefs, batch,
               scratch(gamma_crown_scratch_floats(info_, rows, batch)));
  return Status::ok();
}

Status Kernels::grad(const float *x, const double *c, float *grad, int64_t batch) {
  if (!info_->grad)
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("model '{}' was compiled without a grad kernel", info_->model_name));
  info_->grad(x, c, grad, batch, scratch(info_->grad_scratch_floats_per_sample * batch));
  return Status::ok();
}

} // namespace gma::runtime

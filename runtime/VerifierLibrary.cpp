//===- runtime/VerifierLibrary.cpp - Loading and calling kernels ----------===//
//
// dlopen's a library written by gammac, finds `gamma_verifier_info`, and
// refuses descriptors of another ABI version before any kernel is called.
// Libraries are opened RTLD_LOCAL: several compiled models (all exporting
// gamma_verifier_info) can be loaded side by side. The kernels' weights come
// from the library's .weights file, checked against the descriptor before a
// kernel reads them, or from a caller's binding (the compile cache).
//
//===----------------------------------------------------------------------===//
#include "runtime/VerifierLibrary.h"

#include "support/Files.h"
#include "support/Hash.h"
#include "support/InputFile.h"

#include <climits>
#include <cstdint>
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

Expected<std::unique_ptr<VerifierLibrary>> VerifierLibrary::load(const std::string &path) {
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

Expected<std::unique_ptr<VerifierLibrary>> VerifierLibrary::open(const std::string &path) {
  auto lib = load(path);
  if (!lib)
    return lib;
  const gamma_kernel_info *info = (*lib)->info_;
  if (info->weights_count == 0)
    return lib;
  std::string wpath = support::weightsPathFor(path);
  auto file = support::mapInputFile(wpath, static_cast<uint64_t>(INT64_MAX),
                                    ErrorCode::VerifierLoad, "weights file");
  if (!file)
    return loadError(ErrorCode::VerifierLoad, path,
                     fmt::format("cannot read its weights file: {}",
                                 file.takeError().message()));
  WeightBinding &b = (*lib)->binding_;
  b.table.resize(static_cast<size_t>(info->weights_count));
  if (gamma_bind_weights(info, (*file)->data(), static_cast<int64_t>((*file)->size()),
                         b.table.data()) != 0)
    return loadError(ErrorCode::VerifierMismatch, wpath,
                     fmt::format("not the weights file of '{}' ({} bytes, the library expects "
                                 "{}, or not a gamma weights file); recompile the model",
                                 path, (*file)->size(), info->weights_file_bytes));
  if (support::digestHex((*file)->data(), (*file)->size()) != info->weights_digest)
    return loadError(ErrorCode::VerifierMismatch, wpath,
                     fmt::format("not the weights file of '{}' (its BLAKE3 digest differs from "
                                 "the one the library records); recompile the model",
                                 path));
  b.keep = std::move(*file);
  return lib;
}

Expected<std::unique_ptr<VerifierLibrary>> VerifierLibrary::open(const std::string &path,
                                                                 WeightBinding binding) {
  auto lib = load(path);
  if (!lib)
    return lib;
  const gamma_kernel_info *info = (*lib)->info_;
  bool fits = binding.table.size() == static_cast<size_t>(info->weights_count) &&
              binding.sizes.size() == binding.table.size();
  for (size_t i = 0; fits && i < binding.table.size(); ++i)
    fits = binding.sizes[i] == info->weights_sizes[i] && binding.table[i] != nullptr;
  if (!fits)
    return loadError(ErrorCode::VerifierMismatch, path,
                     "its weight table does not fit the model's weights; recompile the model");
  (*lib)->binding_ = std::move(binding);
  return lib;
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
  info_->eval(weights_, x, y, batch, scratch(info_->eval_scratch_floats_per_sample * batch));
}

void Kernels::ibp(const float *xlo, const float *xhi, float *ylo, float *yhi, int64_t batch) {
  info_->ibp(weights_, xlo, xhi, ylo, yhi, batch, scratch(info_->ibp_scratch_floats_per_sample * batch));
}

} // namespace gma::runtime

namespace gma::runtime {

Status Kernels::crown(const float *xlo, const float *xhi, const double *C, int64_t rows,
                      float *lower, float *inputCoefs, int64_t batch,
                      const CrownArrays &arrays) {
  if (!info_->crown)
    return Error(ErrorCode::InvalidArgument,
                 "the model was compiled without crown kernels (too deep or too wide for "
                 "them; its header says why): use --method ibp");
  info_->crown(weights_, xlo, xhi, C, rows, lower, inputCoefs, arrays.boundsIn, arrays.boundsOut,
               arrays.lowerSlopes, batch,
               scratch(gamma_crown_scratch_floats(info_, rows, batch)));
  return Status::ok();
}

Status Kernels::grad(const float *x, const double *c, float *grad, int64_t batch) {
  if (!info_->grad)
    return Error(ErrorCode::InvalidArgument,
                 "the model was compiled without a grad kernel");
  info_->grad(weights_, x, c, grad, batch, scratch(info_->grad_scratch_floats_per_sample * batch));
  return Status::ok();
}

} // namespace gma::runtime

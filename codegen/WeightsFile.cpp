//===- codegen/WeightsFile.cpp - The .weights file of a library -----------===//
//
// See WeightsFile.h. The bytes are produced once, by `forEachChunk`, for both
// the digest and the file, so the two cannot describe different files.
//
//===----------------------------------------------------------------------===//
#include "codegen/WeightsFile.h"

#include "abi/KernelAbi.h"
#include "support/Hash.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <functional>
#include <random>
#include <unistd.h>

namespace gma::codegen {

namespace {

constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

/// Calls `chunk` on consecutive pieces of the file's bytes.
void forEachChunk(const KernelPlan &plan, const WeightsFileLayout &layout,
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

Error writeError(const std::string &path, const std::string &what) {
  Location loc;
  loc.file = path;
  return Error(ErrorCode::FileWrite, what, std::move(loc));
}

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

std::string weightsFileDigest(const KernelPlan &plan, const WeightsFileLayout &layout) {
  support::Hasher h;
  forEachChunk(plan, layout, [&](const void *p, size_t n) { h.bytes(p, n); });
  return h.hex();
}

Status writeWeightsFile(const KernelPlan &plan, const std::string &path) {
  WeightsFileLayout layout = layoutWeightsFile(plan);
  std::string tmp = fmt::format("{}.tmp-{:08x}", path, std::random_device{}());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return writeError(path, fmt::format("cannot create a temporary file next to it: {}",
                                        std::strerror(errno)));
  int err = 0;
  forEachChunk(plan, layout, [&](const void *p, size_t n) {
    const char *c = static_cast<const char *>(p);
    while (n > 0 && err == 0) {
      ssize_t w = ::write(fd, c, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        err = w < 0 ? errno : EIO;
        break;
      }
      c += w;
      n -= static_cast<size_t>(w);
    }
  });
  if (::close(fd) != 0 && err == 0)
    err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0)
    err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return writeError(path, fmt::format("cannot write the weights file: {}", std::strerror(err)));
  }
  return Status::ok();
}

} // namespace gma::codegen

//===- support/InputFile.h - Reading untrusted input files --*- C++ -*-===//
//
// Every file gamma reads on a user's behalf (a model, its external data, a
// property, textual IR) may be hostile: a FIFO that blocks open() and read(),
// /dev/zero that never ends, a sparse file of terabytes. `mapInputFile` opens
// it without blocking (O_NONBLOCK), checks with fstat that it is a regular
// file and that its size is within a limit *before* reading a byte, and maps
// it read-only instead of copying it into memory.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostic.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gma::support {

/// A read-only memory mapping of a whole regular file.
class MappedFile {
public:
  MappedFile() = default;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  const char *data() const { return static_cast<const char *>(base_); }
  size_t size() const { return size_; }
  std::string_view bytes() const { return {data(), size_}; }

private:
  friend Expected<std::shared_ptr<const MappedFile>>
  mapInputFile(const std::string &, uint64_t, ErrorCode, const char *);
  void *base_ = nullptr;
  size_t size_ = 0;
};

/// Maps `path`. A missing, unreadable or non-regular file (a FIFO, a device,
/// a directory) gives FileNotFound; a file larger than `maxBytes` gives
/// `tooLarge`. `what` names the file in messages ("ONNX model").
Expected<std::shared_ptr<const MappedFile>> mapInputFile(const std::string &path,
                                                         uint64_t maxBytes, ErrorCode tooLarge,
                                                         const char *what);

} // namespace gma::support

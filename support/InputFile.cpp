//===- support/InputFile.cpp - Reading untrusted input files ----------===//
//
// open(O_NONBLOCK) returns at once on a FIFO with no writer, where a plain
// open() would wait forever; fstat then rejects everything that is not a
// regular file, so no read() ever blocks or runs on without end.
//
//===----------------------------------------------------------------------===//
#include "support/InputFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gma::support {

MappedFile::~MappedFile() {
  if (base_)
    ::munmap(base_, size_);
}

Expected<std::shared_ptr<const MappedFile>> mapInputFile(const std::string &path,
                                                         uint64_t maxBytes, ErrorCode tooLarge,
                                                         const char *what) {
  Location loc;
  loc.file = path;
  if (path.find('\0') != std::string::npos)
    return Error(ErrorCode::FileNotFound, fmt::format("the {} path contains a NUL byte", what),
                 loc);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return Error(ErrorCode::FileNotFound,
                 fmt::format("cannot open the {} '{}': {}", what, path, std::strerror(errno)), loc);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::FileNotFound,
                 fmt::format("the {} '{}' is not a regular file (a FIFO, device or directory)", what,
                             path),
                 loc);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > maxBytes) {
    ::close(fd);
    return Error(tooLarge,
                 fmt::format("the {} has {} bytes, more than the limit of {} bytes", what, size,
                             maxBytes),
                 loc);
  }
  auto file = std::make_shared<MappedFile>();
  if (size > 0) {
    void *base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
      ::close(fd);
      return Error(ErrorCode::FileNotFound,
                   fmt::format("cannot memory-map the {} '{}': {}", what, path,
                               std::strerror(errno)), loc);
    }
    file->base_ = base;
    file->size_ = size;
  }
  ::close(fd); // The mapping stays valid after the descriptor is closed.
  return std::shared_ptr<const MappedFile>(std::move(file));
}

} // namespace gma::support

//===- support/Files.cpp - Safe output targets ----------------------------===//
#include "support/Files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace gma::support {

std::string checkOutputTarget(const std::string &path, const std::vector<std::string> &inputs) {
  if (path.empty())
    return "the output path is empty";
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return "it is a symbolic link; name the file itself (gamma never replaces a link)";
    if (!S_ISREG(st.st_mode))
      return "it exists and is not a regular file (a device, FIFO or directory is never "
             "replaced)";
    for (const std::string &in : inputs) {
      struct stat is;
      if (!in.empty() && ::stat(in.c_str(), &is) == 0 && is.st_dev == st.st_dev &&
          is.st_ino == st.st_ino)
        return "it is one of this run's input files ('" + in + "')";
    }
  } else if (errno != ENOENT) {
    return std::strerror(errno);
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty())
    dir = ".";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return "its folder '" + dir.string() + "' cannot be written: " + std::strerror(errno);
  return {};
}

std::string weightsPathFor(const std::string &libraryPath) {
  const std::string so = ".so";
  if (libraryPath.size() > so.size() &&
      libraryPath.compare(libraryPath.size() - so.size(), so.size(), so) == 0)
    return libraryPath.substr(0, libraryPath.size() - so.size()) + ".weights";
  return libraryPath + ".weights";
}

} // namespace gma::support

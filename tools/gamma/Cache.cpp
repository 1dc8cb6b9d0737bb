//===- tools/gamma/Cache.cpp - Content-addressed cache of compiled models -===//
//
// See Cache.h for the identity, integrity and directory rules.
//
//===----------------------------------------------------------------------===//
#include "tools/gamma/Cache.h"

#include "codegen/KernelPlan.h"
#include "codegen/TargetSetup.h"
#include "generated/CodegenFingerprint.h"
#include "support/Hash.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gma::tools {
namespace {

namespace fs = std::filesystem;

/// Temporaries older than this are debris of a killed run.
constexpr auto kStaleTemporary = std::chrono::hours(1);

/// Reads a whole regular file through `fd` (at most `limit` bytes).
bool readAll(int fd, std::string &out, size_t limit) {
  out.clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    if (n == 0)
      return true;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit)
      return false;
  }
}

/// Opens `path` for reading if it is a regular file owned by the user
/// (never following a symlink, never blocking on a FIFO); -1 otherwise.
int openOwnedRegular(const fs::path &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return -1;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Whether `dir` is a directory that only the user can write.
Status checkPrivateDirectory(const fs::path &dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0)
    return Error(ErrorCode::FileWrite,
                 fmt::format("cannot use the cache directory '{}': {}", dir.string(),
                             std::strerror(errno)));
  if (!S_ISDIR(st.st_mode))
    return Error(ErrorCode::FileWrite,
                 fmt::format("the cache directory '{}' is not a directory", dir.string()));
  if (st.st_uid != ::geteuid())
    return Error(ErrorCode::FileWrite,
                 fmt::format("the cache directory '{}' belongs to another user; refusing to "
                             "load code from it",
                             dir.string()));
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return Error(ErrorCode::FileWrite,
                 fmt::format("the cache directory '{}' can be written by other users; refusing "
                             "to load code from it (chmod go-w)",
                             dir.string()));
  return Status::ok();
}

/// Creates the cache directory (mode 0700 for the levels it creates) and
/// checks that it is private.
Status prepareDirectory(const fs::path &dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::path parent = dir.parent_path();
    if (!parent.empty())
      fs::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return Error(ErrorCode::FileWrite,
                   fmt::format("cannot create the cache directory '{}': {}", dir.string(),
                               std::strerror(errno)));
  }
  return checkPrivateDirectory(dir);
}

/// Removes temporaries (`*.tmp-*`) that a killed run left behind.
void removeStaleTemporaries(const fs::path &dir) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path &p = it->path();
    if (p.filename().string().find(".tmp-") == std::string::npos)
      continue;
    std::error_code ec2;
    auto t = fs::last_write_time(p, ec2);
    if (!ec2 && now - t > kStaleTemporary)
      fs::remove(p, ec2);
  }
}

void removeEntry(const fs::path &so) {
  std::error_code ec;
  fs::remove(so, ec);
  fs::remove(fs::path(so.string() + ".b3"), ec);
}

/// Loads the entry `so` if its bytes have the digest recorded beside it and
/// it records `modelDigest` (for a cache entry, "code:" and its key), its
/// kernels bound to `binding`; otherwise says why in `why`.
std::unique_ptr<runtime::VerifierLibrary> loadVerified(const fs::path &so,
                                                       const std::string &modelDigest,
                                                       const runtime::WeightBinding &binding,
                                                       std::string &why) {
  int dfd = openOwnedRegular(fs::path(so.string() + ".b3"));
  std::string recorded;
  bool ok = dfd >= 0 && readAll(dfd, recorded, 2 * support::kDigestHexLength);
  if (dfd >= 0)
    ::close(dfd);
  if (!ok || recorded.size() < support::kDigestHexLength) {
    why = "the cached library has no valid digest file";
    return nullptr;
  }
  recorded.resize(support::kDigestHexLength);
  int fd = openOwnedRegular(so);
  if (fd < 0) {
    why = "the cached library is not a regular file of this user";
    return nullptr;
  }
  std::string bytes;
  if (!readAll(fd, bytes, size_t(1) << 34) || support::digestHex(bytes) != recorded) {
    ::close(fd);
    why = "the cached library does not match its digest (damaged or edited)";
    return nullptr;
  }
  // dlopen the descriptor that was checked, not the path again.
  auto lib = runtime::VerifierLibrary::open(fmt::format("/proc/self/fd/{}", fd), binding);
  ::close(fd);
  if (!lib) {
    why = lib.error().message();
    return nullptr;
  }
  const char *d = (*lib)->info()->model_digest;
  if (!d || modelDigest.empty() || modelDigest != d) {
    why = "the cached library was compiled from other code";
    return nullptr;
  }
  return std::move(*lib);
}

/// The weights of `plan`'s kernels, which a cached library (compiled without
/// a .weights file) is bound to: the graph's own arrays and the plan's
/// derived ones, no copy.
runtime::WeightBinding planWeights(const std::shared_ptr<const codegen::KernelPlan> &plan) {
  runtime::WeightBinding b;
  for (const codegen::ConstData &c : plan->weights) {
    b.table.push_back(c.data);
    b.sizes.push_back(c.size);
  }
  b.keep = plan;
  return b;
}

/// Records the digest of the freshly written entry `so`.
Status recordDigest(const fs::path &so) {
  int fd = openOwnedRegular(so);
  std::string bytes;
  bool ok = fd >= 0 && readAll(fd, bytes, size_t(1) << 34);
  if (fd >= 0)
    ::close(fd);
  if (!ok)
    return Error(ErrorCode::FileWrite,
                 fmt::format("cannot read back the compiled library '{}'", so.string()));
  return codegen::writeFileAtomically(so.string() + ".b3", support::digestHex(bytes) + "\n");
}

CompiledKernels fromLibrary(std::unique_ptr<runtime::VerifierLibrary> lib, const char *source,
                            const fs::path &path) {
  CompiledKernels k;
  k.library = std::move(lib);
  k.info = k.library->info();
  k.weights = k.library->weights();
  k.source = source;
  k.path = path.string();
  return k;
}

} // namespace

std::string cacheDirectory() {
  if (const char *d = std::getenv("GAMMA_CACHE_DIR"); d && *d)
    return d;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return (fs::path(x) / "gamma").string();
  if (const char *h = std::getenv("HOME"); h && *h)
    return (fs::path(h) / ".cache" / "gamma").string();
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  if (ec)
    tmp = "/tmp";
  return (tmp / fmt::format("gamma-cache-{}", static_cast<unsigned long>(::geteuid()))).string();
}

Expected<std::string> cacheKey(const std::string &codeDigest,
                               const codegen::CodegenOptions &opts) {
  auto target = codegen::resolveTarget(opts.cpu);
  if (!target)
    return target.takeError();
  support::Hasher h;
  h.field("gamma cache key 2");
  h.field(codeDigest);
  h.field(GAMMA_CODEGEN_FINGERPRINT);
  h.field(static_cast<uint64_t>(GAMMA_KERNEL_ABI_VERSION));
  h.field(target->triple);
  h.field(target->cpu);
  h.field(target->features);
  h.field(static_cast<uint64_t>(opts.optLevel));
  h.field(opts.prefix);
  h.field(opts.linker);
  return h.hex();
}

Expected<CompiledKernels> loadOrCompile(const ir::Graph &optimized, bool allowJit,
                                        std::string *note) {
  codegen::CodegenOptions copts;
  copts.writeWeights = false; // bound to the graph's weights at load
  copts.modelName = "";       // shared by every network of this code
  // One plan for the code digest, the binding and a compile on a miss.
  auto built = codegen::buildKernelPlan(optimized);
  if (!built)
    return built.takeError(); // the compilers would refuse the graph alike
  copts.plan = std::make_shared<const codegen::KernelPlan>(std::move(*built));
  runtime::WeightBinding binding = planWeights(copts.plan);
  auto code = codegen::codeDigest(optimized, copts);
  if (!code)
    return code.takeError();
  auto key = cacheKey(*code, copts);
  if (!key)
    return key.takeError();
  // The library records its own key, and a loaded entry must carry the key
  // it is looked up under.
  copts.modelDigest = "code:" + *key;

  fs::path dir = cacheDirectory();
  fs::path path = dir / (*key + ".so");
  std::string why;
  if (Status ready = prepareDirectory(dir); !ready) {
    why = ready.error().message();
  } else {
    removeStaleTemporaries(dir);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) {
      if (auto lib = loadVerified(path, copts.modelDigest, binding, why))
        return fromLibrary(std::move(lib), "cache", path);
      // A damaged, foreign or planted entry: never executed, rebuilt below
      // (the renames are atomic, so a concurrent reader sees the old entry or
      // the new one).
      removeEntry(path);
    }
    Status s = codegen::emitToFile(optimized, codegen::EmitKind::SharedLibrary, path.string(),
                                   copts);
    if (!s && s.error().code() == ErrorCode::KernelUnsupported)
      return s.error(); // the JIT would refuse the model alike
    if (s)
      s = recordDigest(path);
    if (s) {
      std::string loadWhy;
      if (auto lib = loadVerified(path, copts.modelDigest, binding, loadWhy))
        return fromLibrary(std::move(lib), "compiled", path);
      why = "the compiled library cannot be loaded: " + loadWhy;
    } else {
      why = s.error().str();
    }
  }
  if (!allowJit)
    return Error(ErrorCode::FileWrite, "cannot fill the compile cache: " + why);
  if (note)
    *note = "compile cache not used: " + why;
  auto jit = codegen::JitVerifier::compile(optimized, copts);
  if (!jit)
    return jit.takeError();
  CompiledKernels k;
  k.jit = std::move(*jit);
  k.info = k.jit->info();
  k.weights = k.jit->weights();
  k.source = "jit";
  return k;
}

} // namespace gma::tools

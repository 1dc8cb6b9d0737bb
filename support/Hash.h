//===- support/Hash.h - Content digests (BLAKE3) ----------------*- C++ -*-===//
//
// gamma identifies models and compiled artefacts by a BLAKE3 digest (256
// bits, LLVM's implementation, llvm-c/blake3.h) of every byte that determines
// them. BLAKE3 is a cryptographic hash: nobody can construct a second model
// with the digest of a first one, so neither a crafted model nor a crafted
// cache entry is ever taken for another (FNV-1a, used before, has cheap
// collisions). It is also fast (SIMD; a 2.4 GB weights file in about a
// second), and every digest is computed once per run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gma::support {

/// Hex digits of a digest.
constexpr size_t kDigestHexLength = 64;

/// A streaming BLAKE3 digest. Each `field` is length-prefixed, so the sequence
/// of fields (not only their concatenation) determines the digest.
class Hasher {
public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher &) = delete;
  Hasher &operator=(const Hasher &) = delete;

  /// Raw bytes, appended without a length prefix.
  void bytes(const void *data, size_t size);
  /// A length-prefixed field.
  void field(std::string_view s);
  void field(uint64_t v);
  /// kDigestHexLength lower-case hex digits.
  std::string hex() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The digest of `data` as kDigestHexLength hex digits.
std::string digestHex(const void *data, size_t size);
inline std::string digestHex(std::string_view s) { return digestHex(s.data(), s.size()); }

} // namespace gma::support

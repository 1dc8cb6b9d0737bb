//===- support/Hash.h - Content digests (XXH3-128) --------------*- C++ -*-===//
//
// gamma identifies models and compiled artefacts by a 128-bit XXH3 digest of
// every byte that determines them (Debian's libxxhash). XXH3 is fast (several
// GB/s, so hashing a 2.4 GB weights file costs well under a second) and,
// unlike FNV-1a, has no known cheap way of constructing a second input with
// the same 128-bit digest as a given one. It is not a cryptographic hash: the
// compile cache also refuses directories that other users can write
// (tools/gamma/Cache.cpp), so nobody else can plant a colliding entry.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gma::support {

/// A streaming XXH3-128 digest. Each `field` is length-prefixed, so the
/// sequence of fields (not only their concatenation) determines the digest.
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
  /// 32 lower-case hex digits.
  std::string hex() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The XXH3-128 digest of `data` as 32 hex digits.
std::string digestHex(const void *data, size_t size);
inline std::string digestHex(std::string_view s) { return digestHex(s.data(), s.size()); }

} // namespace gma::support

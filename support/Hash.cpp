//===- support/Hash.cpp - Content digests (XXH3-128) ----------------------===//
#include "support/Hash.h"

#include <cstdio>
#include <xxhash.h>

namespace gma::support {

struct Hasher::State {
  XXH3_state_t *s = XXH3_createState();
  ~State() { XXH3_freeState(s); }
};

Hasher::Hasher() : state_(std::make_unique<State>()) { XXH3_128bits_reset(state_->s); }
Hasher::~Hasher() = default;

void Hasher::bytes(const void *data, size_t size) {
  if (size)
    XXH3_128bits_update(state_->s, data, size);
}

void Hasher::field(uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<unsigned char>(v >> (8 * i));
  bytes(b, sizeof b);
}

void Hasher::field(std::string_view s) {
  field(static_cast<uint64_t>(s.size()));
  bytes(s.data(), s.size());
}

static std::string toHex(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

std::string Hasher::hex() const { return toHex(XXH3_128bits_digest(state_->s)); }

std::string digestHex(const void *data, size_t size) { return toHex(XXH3_128bits(data, size)); }

} // namespace gma::support

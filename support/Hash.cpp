//===- support/Hash.cpp - Content digests (BLAKE3) ------------------------===//
#include "support/Hash.h"

#include <llvm-c/blake3.h>

namespace gma::support {

struct Hasher::State {
  llvm_blake3_hasher h;
};

Hasher::Hasher() : state_(std::make_unique<State>()) { llvm_blake3_hasher_init(&state_->h); }
Hasher::~Hasher() = default;

void Hasher::bytes(const void *data, size_t size) {
  if (size)
    llvm_blake3_hasher_update(&state_->h, data, size);
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

std::string Hasher::hex() const {
  uint8_t out[LLVM_BLAKE3_OUT_LEN];
  llvm_blake3_hasher_finalize(&state_->h, out, sizeof out);
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : out) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string digestHex(const void *data, size_t size) {
  Hasher h;
  h.bytes(data, size);
  return h.hex();
}

} // namespace gma::support

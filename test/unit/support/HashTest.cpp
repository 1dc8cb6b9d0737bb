//===- test/unit/support/HashTest.cpp - Content digests --------------------===//
//
// The digest is BLAKE3 (a published test vector pins it), fields are
// length-prefixed (two field sequences with one concatenation differ), and
// one flipped bit anywhere changes it.
//
//===----------------------------------------------------------------------===//
#include "support/Hash.h"

#include <gtest/gtest.h>

#include <string>

namespace gma::support {
namespace {

TEST(Hash, IsBlake3) {
  // BLAKE3 of the empty input (the reference implementation's test vectors).
  EXPECT_EQ(digestHex("", 0), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  EXPECT_EQ(digestHex("").size(), kDigestHexLength);
}

TEST(Hash, FieldsAreLengthPrefixed) {
  Hasher a, b;
  a.field("ab");
  a.field("c");
  b.field("a");
  b.field("bc");
  EXPECT_NE(a.hex(), b.hex());
}

TEST(Hash, EveryBitCounts) {
  std::string data(4096, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 131 + 7);
  std::string base = digestHex(data);
  for (size_t i : {size_t(0), size_t(1023), size_t(1024), size_t(4095)}) {
    std::string flipped = data;
    flipped[i] ^= 1;
    EXPECT_NE(digestHex(flipped), base) << "byte " << i;
  }
}

} // namespace
} // namespace gma::support

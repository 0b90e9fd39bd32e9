#include "common/siphash.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace geosteer {
namespace {

// The key and messages of the paper's test vectors: key 00 01 .. 0f, message
// 00 01 .. (n-1).
SipHashKey paper_key() {
  SipHashKey key;
  std::iota(key.begin(), key.end(), uint8_t{0});
  return key;
}

std::vector<uint8_t> counting_message(size_t length) {
  std::vector<uint8_t> message(length);
  std::iota(message.begin(), message.end(), uint8_t{0});
  return message;
}

TEST(SipHash24, MatchesThePapersAppendixVector) {
  // Appendix A of the paper: a 15-byte message hashes to 0xa129ca6149be45e5.
  EXPECT_EQ(siphash24(paper_key(), counting_message(15)), 0xa129ca6149be45e5ULL);
}

TEST(SipHash24, MatchesTheReferenceVectorsAcrossBlockBoundaries) {
  // From the reference implementation's vectors (output bytes, little endian), for
  // the empty message, a partial block, one exact block and more than one block.
  struct Vector {
    size_t length;
    std::array<uint8_t, 8> bytes;
  };
  const Vector vectors[] = {
      {0, {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72}},
      {1, {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74}},
      {7, {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab}},
      {8, {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93}},
      {16, {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f}},
      {63, {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95}},
  };
  for (const Vector& v : vectors) {
    EXPECT_EQ(siphash24_bytes(siphash24(paper_key(), counting_message(v.length))), v.bytes)
        << "message length " << v.length;
  }
}

TEST(SipHash24, GivesTheSameHashWhateverTheMessageIsCutInto) {
  std::vector<uint8_t> message = counting_message(40);
  uint64_t whole = siphash24(paper_key(), message);
  for (size_t cut : {1u, 3u, 8u, 13u, 39u}) {
    SipHash24 pieces(paper_key());
    pieces.update(std::span(message).first(cut));
    pieces.update(std::span(message).subspan(cut));
    EXPECT_EQ(pieces.finish(), whole) << "cut at " << cut;
  }
}

TEST(SipHash24, DependsOnTheKey) {
  SipHashKey other = paper_key();
  other[15] ^= 1;
  EXPECT_NE(siphash24(other, counting_message(15)), siphash24(paper_key(), counting_message(15)));
}

}  // namespace
}  // namespace geosteer

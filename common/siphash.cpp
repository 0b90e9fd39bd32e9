#include "common/siphash.h"

#include <bit>

namespace geosteer {
namespace {

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// One SipRound (section 2 of the paper).
void sip_round(uint64_t (&v)[4]) {
  v[0] += v[1];
  v[1] = std::rotl(v[1], 13);
  v[1] ^= v[0];
  v[0] = std::rotl(v[0], 32);
  v[2] += v[3];
  v[3] = std::rotl(v[3], 16);
  v[3] ^= v[2];
  v[0] += v[3];
  v[3] = std::rotl(v[3], 21);
  v[3] ^= v[0];
  v[2] += v[1];
  v[1] = std::rotl(v[1], 17);
  v[1] ^= v[2];
  v[2] = std::rotl(v[2], 32);
}

}  // namespace

SipHash24::SipHash24(const SipHashKey& key) {
  uint64_t k0 = load_le64(key.data());
  uint64_t k1 = load_le64(key.data() + 8);
  // "somepseudorandomlygeneratedbytes", the initialisation constants of the paper.
  v_[0] = k0 ^ 0x736f6d6570736575ULL;
  v_[1] = k1 ^ 0x646f72616e646f6dULL;
  v_[2] = k0 ^ 0x6c7967656e657261ULL;
  v_[3] = k1 ^ 0x7465646279746573ULL;
}

void SipHash24::compress(uint64_t block) {
  v_[3] ^= block;
  sip_round(v_);  // c = 2 compression rounds
  sip_round(v_);
  v_[0] ^= block;
}

void SipHash24::update(std::span<const uint8_t> data) {
  total_length_ += data.size();
  size_t i = 0;
  while (tail_length_ > 0 && tail_length_ < 8 && i < data.size()) tail_[tail_length_++] = data[i++];
  if (tail_length_ == 8) {
    compress(load_le64(tail_));
    tail_length_ = 0;
  }
  for (; i + 8 <= data.size(); i += 8) compress(load_le64(data.data() + i));
  while (i < data.size()) tail_[tail_length_++] = data[i++];
}

uint64_t SipHash24::finish() {
  // The last block: the remaining bytes, zero padded, the length mod 256 on top.
  uint64_t last = (total_length_ & 0xFF) << 56;
  for (size_t i = 0; i < tail_length_; ++i) last |= uint64_t{tail_[i]} << (8 * i);
  compress(last);
  v_[2] ^= 0xFF;
  for (int i = 0; i < 4; ++i) sip_round(v_);  // d = 4 finalisation rounds
  return v_[0] ^ v_[1] ^ v_[2] ^ v_[3];
}

uint64_t siphash24(const SipHashKey& key, std::span<const uint8_t> data) {
  SipHash24 hash(key);
  hash.update(data);
  return hash.finish();
}

std::array<uint8_t, 8> siphash24_bytes(uint64_t hash) {
  std::array<uint8_t, 8> out;
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(hash >> (8 * i));
  return out;
}

}  // namespace geosteer

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012):
// a keyed 64-bit hash, for DNS server cookies (RFC 9018 section 4.4) and for the
// rate limiter's table, where a secret key keeps clients from choosing collisions.
// Written here, small, because OpenSSL's EVP_MAC allocates; this one works on the
// stack only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace geosteer {

using SipHashKey = std::array<uint8_t, 16>;

// Incremental form, for hashing a message given in pieces without copying it.
class SipHash24 {
 public:
  explicit SipHash24(const SipHashKey& key);
  void update(std::span<const uint8_t> data);
  // The 64-bit result; finish() may be called once.
  uint64_t finish();

 private:
  void compress(uint64_t block);

  uint64_t v_[4];
  uint8_t tail_[8] = {};
  size_t tail_length_ = 0;
  uint64_t total_length_ = 0;
};

uint64_t siphash24(const SipHashKey& key, std::span<const uint8_t> data);

// The 8 output bytes as the reference implementation writes them (little endian),
// which is how RFC 9018 puts the hash into a server cookie.
std::array<uint8_t, 8> siphash24_bytes(uint64_t hash);

}  // namespace geosteer

#include "ratelimit/limiter.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <random>

namespace geosteer::ratelimit {
namespace {

// One account: the hash of its key, and its state.
//
// The state is a GCRA token bucket ("generic cell rate algorithm", the token bucket
// written as one time): the theoretical arrival time (TAT) of the next response,
// in microseconds of the clock, shifted left by 8, with the count of drops since
// the last slip in the low 8 bits. One 64-bit word, so a compare-and-swap updates
// an account whole without a lock, whichever query thread it runs on (SO_REUSEPORT
// spreads one client's source ports over every thread, so per-thread tables would
// give a client the rate once per thread).
//
// The key is a separate word: two threads claiming one slot for different keys at
// the same moment may leave a key beside the other's state. That costs one
// account's accuracy for a moment and nothing else; a lock would cost every query.
struct Entry {
  std::atomic<uint64_t> key{0};  // 0: free
  std::atomic<uint64_t> state{0};
};

constexpr unsigned kDropBits = 8;
constexpr uint64_t kDropMask = (uint64_t{1} << kDropBits) - 1;
constexpr size_t kEntriesPerBucket = 4;  // 64 bytes: one cache line per lookup

uint64_t micros(Limiter::Clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  return us > 0 ? static_cast<uint64_t>(us) : 0;
}

SipHashKey random_key() {
  std::random_device random;
  SipHashKey key;
  for (auto& byte : key) byte = static_cast<uint8_t>(random());
  return key;
}

}  // namespace

// Accounts are found by hash in a set-associative table: the hash picks a bucket,
// the account is one of its entries, and a new account takes the entry whose
// bucket is emptiest (the smallest TAT), which is free or long idle.
struct alignas(64) Limiter::Bucket {
  Entry entries[kEntriesPerBucket];

  Entry& account(uint64_t key) {
    Entry* oldest = &entries[0];
    uint64_t oldest_tat = UINT64_MAX;
    for (Entry& entry : entries) {
      if (entry.key.load(std::memory_order_relaxed) == key) return entry;
      uint64_t tat = entry.state.load(std::memory_order_relaxed) >> kDropBits;
      if (tat < oldest_tat) {
        oldest_tat = tat;
        oldest = &entry;
      }
    }
    oldest->key.store(key, std::memory_order_relaxed);
    oldest->state.store(0, std::memory_order_relaxed);  // TAT 0: a full bucket
    return *oldest;
  }
};

Limiter::Limiter(Settings settings, const SipHashKey& hash_key)
    : settings_(std::move(settings)), hash_key_(hash_key) {
  settings_.slip = std::min(settings_.slip, unsigned{kDropMask});  // fits the drop count
  uint64_t rate = std::max(settings_.responses_per_second, 1u);
  interval_us_ = std::max<uint64_t>(1'000'000 / rate, 1);
  burst_us_ = interval_us_ * rate;
  debt_us_ = static_cast<uint64_t>(settings_.window.count()) * 1'000'000;
  size_t buckets = std::bit_ceil(std::max<size_t>(settings_.table_entries / kEntriesPerBucket, 1));
  buckets_ = std::make_unique<Bucket[]>(buckets);
  bucket_mask_ = buckets - 1;
}

Limiter::Limiter(Settings settings) : Limiter(std::move(settings), random_key()) {}

Limiter::~Limiter() = default;

bool Limiter::exempt(const IpAddress& client) const {
  return std::any_of(settings_.exempt.begin(), settings_.exempt.end(),
                     [&](const IpPrefix& prefix) { return prefix.contains(client); });
}

// The account a response is debited from: its client network and class, plus what
// identifies the response within the class (see ResponseClass).
uint64_t Limiter::account_key(const Response& response) const {
  const IpAddress& client = response.client;
  unsigned prefix = client.family == Family::V4 ? settings_.ipv4_prefix : settings_.ipv6_prefix;
  prefix = std::min(prefix, client.bits());
  IpAddress network = client.masked(prefix);
  uint8_t head[3] = {static_cast<uint8_t>(response.kind), static_cast<uint8_t>(client.family),
                     static_cast<uint8_t>(prefix)};
  SipHash24 hash(hash_key_);
  hash.update(head);
  hash.update({network.bytes.data(), network.size()});
  if (response.kind == ResponseClass::Answer) {
    uint8_t qtype[2] = {static_cast<uint8_t>(response.qtype >> 8),
                        static_cast<uint8_t>(response.qtype)};
    hash.update(qtype);
  }
  if (response.kind != ResponseClass::Error) {
    hash.update({reinterpret_cast<const uint8_t*>(response.name.data()), response.name.size()});
  }
  return hash.finish() | 1;  // never 0, which marks a free entry
}

Verdict Limiter::check(const Response& response, Clock::time_point now_point) {
  if (!settings_.enabled || exempt(response.client)) return Verdict::Send;
  uint64_t key = account_key(response);
  Entry& entry = buckets_[(key >> 1) & bucket_mask_].account(key);
  uint64_t now = micros(now_point);
  uint64_t state = entry.state.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t tat = state >> kDropBits;
    uint64_t drops = state & kDropMask;
    // Each response moves the TAT one interval on; a response is sent while the TAT
    // stays within one second (the burst) of now.
    uint64_t next = std::max(tat, now) + interval_us_;
    Verdict verdict = Verdict::Send;
    if (next > now + burst_us_) {
      // Limited responses are debited too, up to the window: a client that keeps
      // flooding stays limited, and recovers within `window` once it stops.
      next = std::min(next, now + burst_us_ + debt_us_);
      drops = settings_.slip == 0 ? 0 : (drops + 1) % settings_.slip;
      verdict = settings_.slip != 0 && drops == 0 ? Verdict::Slip : Verdict::Drop;
    }
    uint64_t desired = next << kDropBits | drops;
    if (entry.state.compare_exchange_weak(state, desired, std::memory_order_relaxed)) {
      return verdict;
    }
  }
}

}  // namespace geosteer::ratelimit

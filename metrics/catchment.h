// Who goes where: the query path leaves a sample of each answer (when, which mirror
// it named first, for which client network) in its own thread's ring; the status page
// groups them by mirror and GeoIP location when it is rendered, on the control
// thread. Recording is a few relaxed stores into memory owned by the thread: no
// allocation, no lock, no shared cache line. Grouping looks networks up in GeoIP and
// allocates freely; it never runs on a query thread.
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/ip.h"
#include "metrics/status_page.h"

namespace geosteer::metrics {

// Seconds on the monotonic clock, as samples are stamped: the coarse clock is read
// through the vDSO in a few nanoseconds, and a catchment needs no finer time.
inline uint32_t catchment_clock() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<uint32_t>(now.tv_sec);
}

struct CatchmentSample {
  uint32_t time = 0;    // catchment_clock()
  uint32_t label = 0;   // QueryMetrics answer label: (service, mirror answered first)
  uint32_t weight = 1;  // answers this sample stands for: it was recorded 1 in `weight`
  IpAddress network;    // the client's network, host bits cleared
  uint8_t prefix = 0;   // its length
};

// One query thread's samples: a fixed ring of the most recent, written by that thread
// only and read by any other. Each slot is a small seqlock: the writer marks it busy,
// writes, marks it done; a reader that sees the mark change skips the slot rather than
// wait, so neither side ever blocks.
//
// At a high query rate the ring would turn over in less than the window and show only
// its last seconds, so it samples: 1 answer in 2^k, k set once a second from the rate
// of the second before so that the ring holds two to four windows' worth of answers
// (a sudden tenfold rise loses one second of samples, not the window). Each sample
// carries its weight 2^k, so counts stay estimates of every answer. Below 4096
// answers per two windows and thread, every answer is recorded (k = 0, exact counts).
class CatchmentRing {
 public:
  static constexpr size_t kSize = 4096;
  static constexpr unsigned kMaxShift = 24;  // at most 1 in 16 million

  // Writer (the ring's thread): one answer, at `now`, for a window of `window` seconds.
  void record(uint32_t now, uint32_t window, uint32_t label, const IpAddress& network,
              uint8_t prefix) noexcept;
  // Any thread: appends the samples no older than `window` seconds at `now`.
  void collect(uint32_t now, uint32_t window, std::vector<CatchmentSample>& out) const;
  // 1 in how many answers are recorded now.
  uint32_t sampling() const { return uint32_t{1} << shift_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    // 0: never written; 2n+1 while sample n is written; 2n+2 once it is.
    std::atomic<uint64_t> sequence{0};
    std::atomic<uint64_t> meta{0};  // time, label, prefix, family, log2 of the weight
    std::atomic<uint64_t> address[2] = {};
  };
  std::array<Slot, kSize> slots_{};
  std::atomic<uint64_t> written_{0};  // samples written so far
  std::atomic<unsigned> shift_{0};    // log2 of the sampling
  // The writer's own.
  uint64_t offered_ = 0;         // answers offered to record()
  uint32_t period_start_ = 0;    // when the rate is next measured from
  uint64_t period_offered_ = 0;  // answers offered since
};

// Where GeoIP places a client network: `located` false when it has no coordinates.
struct ClientPlace {
  bool located = false;
  double lat = 0, lon = 0;
  std::string country;  // ISO 3166-1 alpha-2, empty when unknown
};

// The cells clients are grouped in: latitude and longitude rounded to a grid of this
// many degrees. Two degrees are about 220 km north to south: a metropolitan region,
// coarser than GeoIP's own error for most addresses (tens of kilometres, a country's
// centre for many), so the noise of one city's networks falls in one cell; and 5.6
// pixels on the 1000-pixel map, about the smallest dot drawn, so cells never draw
// finer than the map can show. No network or city is named: a cell is all one sees.
inline constexpr double kCatchmentCellDegrees = 2;

// The centre of the cell holding (lat, lon); longitude 180 is the same cell as -180.
CatchmentCell catchment_cell_of(double lat, double lon);

// The catchment of each mirror: `samples` grouped by mirror (`mirror_of_label[label]`,
// -1 or out of range: not a mirror of the model, left out) and by the cell `locate`
// puts each distinct network in, counted by weight. Cells with most answers first.
std::vector<Catchment> group_catchment(
    std::span<const CatchmentSample> samples, std::span<const int> mirror_of_label,
    size_t mirrors, const std::function<ClientPlace(const IpAddress& network)>& locate);

}  // namespace geosteer::metrics

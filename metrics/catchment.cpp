#include "metrics/catchment.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

namespace geosteer::metrics {
namespace {

// A slot's meta word: time (bits 0-31), label (32-47), prefix (48-55), family
// (56: 1 for IPv6) and log2 of the weight (57-62).
constexpr uint64_t pack_meta(uint32_t time, uint32_t label, uint8_t prefix, Family family,
                             unsigned shift) {
  return uint64_t{time} | uint64_t{label & 0xFFFF} << 32 | uint64_t{prefix} << 48 |
         uint64_t{family == Family::V6 ? 1u : 0u} << 56 | uint64_t{shift & 0x3F} << 57;
}
static_assert(CatchmentRing::kMaxShift < 32, "weights are uint32_t");

}  // namespace

void CatchmentRing::record(uint32_t now, uint32_t window, uint32_t label,
                           const IpAddress& network, uint8_t prefix) noexcept {
  unsigned shift = shift_.load(std::memory_order_relaxed);  // only this thread stores it
  if (const uint32_t elapsed = now - period_start_; elapsed >= 1) {
    // 1 in 2^k, the least k with which kSize samples span twice the window at the
    // rate since the last measure: answers * 2 * window / (elapsed * kSize), rounded up.
    const uint64_t span = period_offered_ * 2 * window;
    const uint64_t ring = uint64_t{elapsed} * kSize;
    const uint64_t needed = span <= ring ? 1 : (span + ring - 1) / ring;
    shift = std::min<unsigned>(kMaxShift, static_cast<unsigned>(std::bit_width(needed - 1)));
    shift_.store(shift, std::memory_order_relaxed);
    period_start_ = now;
    period_offered_ = 0;
  }
  ++period_offered_;
  const uint64_t offered = offered_++;
  if ((offered & ((uint64_t{1} << shift) - 1)) != 0) return;

  const uint64_t index = written_.load(std::memory_order_relaxed);
  Slot& slot = slots_[index % kSize];
  uint64_t words[2];
  std::memcpy(words, network.bytes.data(), sizeof words);
  slot.sequence.store(2 * index + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.meta.store(pack_meta(now, label, prefix, network.family, shift), std::memory_order_relaxed);
  slot.address[0].store(words[0], std::memory_order_relaxed);
  slot.address[1].store(words[1], std::memory_order_relaxed);
  slot.sequence.store(2 * index + 2, std::memory_order_release);
  written_.store(index + 1, std::memory_order_release);
}

void CatchmentRing::collect(uint32_t now, uint32_t window,
                            std::vector<CatchmentSample>& out) const {
  const uint64_t written = written_.load(std::memory_order_acquire);
  const size_t filled = static_cast<size_t>(std::min<uint64_t>(written, kSize));
  for (size_t i = 0; i < filled; ++i) {
    const Slot& slot = slots_[i];
    const uint64_t before = slot.sequence.load(std::memory_order_acquire);
    if (before == 0 || (before & 1) != 0) continue;  // empty, or being written
    const uint64_t meta = slot.meta.load(std::memory_order_relaxed);
    const uint64_t words[2] = {slot.address[0].load(std::memory_order_relaxed),
                               slot.address[1].load(std::memory_order_relaxed)};
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.sequence.load(std::memory_order_relaxed) != before) continue;  // overwritten meanwhile

    CatchmentSample sample;
    sample.time = static_cast<uint32_t>(meta);
    // Signed: a sample stamped after `now` was taken is recent, not 136 years old.
    const int64_t age = static_cast<int32_t>(now - sample.time);
    if (age > static_cast<int64_t>(window)) continue;
    sample.label = static_cast<uint32_t>(meta >> 32) & 0xFFFF;
    sample.prefix = static_cast<uint8_t>(meta >> 48);
    sample.network.family = (meta >> 56 & 1) != 0 ? Family::V6 : Family::V4;
    sample.weight = uint32_t{1} << (meta >> 57 & 0x3F);
    std::memcpy(sample.network.bytes.data(), words, sizeof words);
    out.push_back(sample);
  }
}

CatchmentCell catchment_cell_of(double lat, double lon) {
  long lat_step = std::lround(std::clamp(lat, -90.0, 90.0) / kCatchmentCellDegrees);
  long lon_step = std::lround(lon / kCatchmentCellDegrees);
  const long half_turn = std::lround(180 / kCatchmentCellDegrees);
  while (lon_step >= half_turn) lon_step -= 2 * half_turn;
  while (lon_step < -half_turn) lon_step += 2 * half_turn;
  CatchmentCell cell;
  cell.lat = static_cast<double>(lat_step) * kCatchmentCellDegrees;
  cell.lon = static_cast<double>(lon_step) * kCatchmentCellDegrees;
  return cell;
}

std::vector<Catchment> group_catchment(
    std::span<const CatchmentSample> samples, std::span<const int> mirror_of_label,
    size_t mirrors, const std::function<ClientPlace(const IpAddress& network)>& locate) {
  // The same client networks come back again and again: each is looked up once.
  using NetworkKey = std::tuple<Family, std::array<uint8_t, 16>, uint8_t>;
  std::map<NetworkKey, ClientPlace> places;

  struct CellCount {
    uint64_t answers = 0;
    std::map<std::string, uint64_t> countries;
  };
  std::vector<std::map<std::pair<double, double>, CellCount>> cells(mirrors);
  std::vector<Catchment> out(mirrors);

  for (const CatchmentSample& sample : samples) {
    if (sample.label >= mirror_of_label.size()) continue;
    const int mirror = mirror_of_label[sample.label];
    if (mirror < 0 || static_cast<size_t>(mirror) >= mirrors) continue;
    Catchment& catchment = out[static_cast<size_t>(mirror)];
    if (sample.weight > 1) catchment.estimated = true;

    NetworkKey key{sample.network.family, sample.network.bytes, sample.prefix};
    auto found = places.find(key);
    if (found == places.end()) found = places.emplace(key, locate(sample.network)).first;
    const ClientPlace& place = found->second;
    if (!place.located || !std::isfinite(place.lat) || !std::isfinite(place.lon)) {
      catchment.unlocated += sample.weight;
      continue;
    }
    CatchmentCell cell = catchment_cell_of(place.lat, place.lon);
    CellCount& count = cells[static_cast<size_t>(mirror)][{cell.lat, cell.lon}];
    count.answers += sample.weight;
    if (!place.country.empty()) count.countries[place.country] += sample.weight;
  }

  for (size_t m = 0; m < mirrors; ++m) {
    for (const auto& [centre, count] : cells[m]) {
      CatchmentCell cell;
      cell.lat = centre.first;
      cell.lon = centre.second;
      cell.answers = count.answers;
      std::vector<std::pair<std::string, uint64_t>> countries(count.countries.begin(),
                                                              count.countries.end());
      std::stable_sort(countries.begin(), countries.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      for (auto& country : countries) cell.countries.push_back(std::move(country.first));
      out[m].cells.push_back(std::move(cell));
    }
    // Most answers first; the map's order (south to north, west to east) breaks ties.
    std::stable_sort(out[m].cells.begin(), out[m].cells.end(),
                     [](const CatchmentCell& a, const CatchmentCell& b) { return a.answers > b.answers; });
  }
  return out;
}

}  // namespace geosteer::metrics

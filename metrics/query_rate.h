// The query rate of the last minutes, for the status page: totals of queries answered
// taken on the control thread every few seconds, turned into a rate per interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "metrics/status_page.h"

namespace geosteer::metrics {

class QueryRateHistory {
 public:
  explicit QueryRateHistory(std::chrono::seconds keep = std::chrono::minutes(15)) : keep_(keep) {}

  // The total answered so far, taken at `at` (steady clock), which is `unix` on the wall clock.
  void add(std::chrono::steady_clock::time_point at, int64_t unix_time, uint64_t total);
  // The rate over each interval between two totals, at its end, oldest first; the
  // intervals end less than `keep` before the last total. An interval whose total went back
  // (a counter cannot) or that took no time has no rate.
  std::vector<QueryRatePoint> points() const;

 private:
  struct Total {
    std::chrono::steady_clock::time_point at;
    int64_t unix_time;
    uint64_t total;
  };
  std::chrono::seconds keep_;
  std::deque<Total> totals_;
};

}  // namespace geosteer::metrics

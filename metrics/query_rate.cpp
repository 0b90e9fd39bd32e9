#include "metrics/query_rate.h"

namespace geosteer::metrics {

void QueryRateHistory::add(std::chrono::steady_clock::time_point at, int64_t unix_time, uint64_t total) {
  totals_.push_back({at, unix_time, total});
  // The first kept total starts the first interval that ends less than `keep` ago.
  while (totals_.size() > 2 && totals_[1].at <= at - keep_) totals_.pop_front();
}

std::vector<QueryRatePoint> QueryRateHistory::points() const {
  std::vector<QueryRatePoint> points;
  for (size_t i = 1; i < totals_.size(); ++i) {
    const Total& before = totals_[i - 1];
    const Total& after = totals_[i];
    double seconds = std::chrono::duration<double>(after.at - before.at).count();
    if (seconds <= 0 || after.total < before.total) continue;
    points.push_back({after.unix_time, static_cast<double>(after.total - before.total) / seconds});
  }
  return points;
}

}  // namespace geosteer::metrics

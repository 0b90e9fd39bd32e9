// Per-thread query counters: summing, label interning, the Prometheus text they
// produce, and the promise that counting never allocates.
#include "metrics/query_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <optional>
#include <thread>

// The one source file of test_metrics that replaces operator new.
#include "tests/support/allocation_counter.h"

namespace geosteer::metrics {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The value of the series `name{labels}` (labels in exposition order), or nullopt
// when it is not exposed.
std::optional<double> sample(const QueryMetrics& metrics, const std::string& name,
                             const Labels& labels = {}) {
  for (const auto& family : metrics.collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      Labels found;
      for (const auto& label : metric.label) found.emplace_back(label.name, label.value);
      if (found == labels) return metric.counter.value;
    }
  }
  return std::nullopt;
}

std::optional<double> queries(const QueryMetrics& metrics, const std::string& transport,
                              const std::string& qtype, const std::string& rcode) {
  return sample(metrics, "geosteer_dns_queries_total",
                {{"transport", transport}, {"qtype", qtype}, {"rcode", rcode}});
}

std::string exposition(const QueryMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.collect());
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(QueryMetrics, SumsTheCountsOfSeveralThreads) {
  QueryMetrics metrics;
  constexpr int kThreads = 4, kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.count_query(Transport::Udp, 1, 0);
        if (t % 2 == 0) metrics.count_query(Transport::Tcp, 28, 3);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(queries(metrics, "udp", "A", "NOERROR"), kThreads * kPerThread);
  EXPECT_EQ(queries(metrics, "tcp", "AAAA", "NXDOMAIN"), kThreads / 2 * kPerThread);
}

TEST(QueryMetrics, KeepsTheCountsOfAThreadThatExited) {
  QueryMetrics metrics;
  std::thread([&] {
    for (int i = 0; i < 5; ++i) metrics.count_ecs();
  }).join();
  EXPECT_EQ(sample(metrics, "geosteer_dns_ecs_queries_total"), 5);

  std::thread([&] { metrics.count_ecs(); }).join();
  metrics.count_ecs();
  EXPECT_EQ(sample(metrics, "geosteer_dns_ecs_queries_total"), 7);
}

TEST(QueryMetrics, InstancesOnOneThreadCountSeparately) {
  QueryMetrics first, second;
  for (int i = 0; i < 3; ++i) {
    first.count_truncated();
    second.count_truncated();
    second.count_truncated();
  }
  EXPECT_EQ(sample(first, "geosteer_dns_truncated_total"), 3);
  EXPECT_EQ(sample(second, "geosteer_dns_truncated_total"), 6);
}

TEST(QueryMetrics, ANewInstanceAtAReusedAddressStartsFromZero) {
  // The same storage twice: a per-thread cache keyed by address would hand the second
  // instance the first one's (freed) block.
  std::optional<QueryMetrics> metrics;
  metrics.emplace();
  metrics->count_unlocated();
  metrics.emplace();
  metrics->count_unlocated();
  EXPECT_EQ(sample(*metrics, "geosteer_steering_unlocated_total"), 1);
}

TEST(QueryMetrics, UntrackedQtypesAndRcodesCountAsOther) {
  QueryMetrics metrics;
  metrics.count_query(Transport::Udp, 99, 0);     // SPF
  metrics.count_query(Transport::Udp, 13, 9);     // HINFO, NOTAUTH
  metrics.count_query(Transport::Tcp, 257, 16);   // CAA, BADVERS
  EXPECT_EQ(queries(metrics, "udp", "other", "NOERROR"), 1);
  EXPECT_EQ(queries(metrics, "udp", "other", "other"), 1);
  EXPECT_EQ(queries(metrics, "tcp", "CAA", "BADVERS"), 1);
}

TEST(QueryMetrics, SameNamesGetTheSameLabel) {
  QueryMetrics metrics;
  uint32_t berlin = metrics.answer_label("substitutes.example.org.", "berlin");
  uint32_t tokyo = metrics.answer_label("substitutes.example.org.", "tokyo");
  uint32_t other_service = metrics.answer_label("ci.example.org.", "berlin");
  EXPECT_NE(berlin, tokyo);
  EXPECT_NE(berlin, other_service);
  EXPECT_EQ(metrics.answer_label("substitutes.example.org.", "berlin"), berlin);
  EXPECT_EQ(metrics.answer_label("substitutes.example.org.", "tokyo"), tokyo);

  uint32_t service = metrics.service_label("substitutes.example.org.");
  EXPECT_NE(metrics.service_label("ci.example.org."), service);
  EXPECT_EQ(metrics.service_label("substitutes.example.org."), service);
}

TEST(QueryMetrics, AFullAnswerTableSharesTheLastLabelAsOverflow) {
  QueryMetrics metrics;
  for (size_t i = 0; i + 1 < kMaxAnswerLabels; ++i) {
    ASSERT_EQ(metrics.answer_label("s.", "m" + std::to_string(i)), i);
  }
  constexpr uint32_t overflow = kMaxAnswerLabels - 1;
  EXPECT_EQ(metrics.answer_label("s.", "one-too-many"), overflow);
  EXPECT_EQ(metrics.answer_label("t.", "another"), overflow);
  EXPECT_EQ(metrics.answer_label("s.", "m7"), 7u);  // earlier names keep their ids

  metrics.count_answer(overflow);
  metrics.count_answer(overflow);
  EXPECT_EQ(sample(metrics, "geosteer_steering_answers_total",
                   {{"service", "overflow"}, {"mirror", "overflow"}}),
            2);
}

TEST(QueryMetrics, FirstAnswersAreCountedApartFromEveryAnswer) {
  QueryMetrics metrics;
  uint32_t berlin = metrics.answer_label("s.", "berlin"), paris = metrics.answer_label("s.", "paris");
  metrics.count_answer(berlin);
  metrics.count_answer(paris);
  metrics.count_first_answer(berlin);
  EXPECT_EQ(sample(metrics, "geosteer_steering_first_answers_total", {{"service", "s."}, {"mirror", "berlin"}}), 1);
  EXPECT_EQ(sample(metrics, "geosteer_steering_first_answers_total", {{"service", "s."}, {"mirror", "paris"}}), 0);
  EXPECT_EQ(sample(metrics, "geosteer_steering_answers_total", {{"service", "s."}, {"mirror", "paris"}}), 1);
}

TEST(QueryMetrics, AFullServiceTableSharesTheLastLabelAsOverflow) {
  QueryMetrics metrics;
  for (size_t i = 0; i + 1 < kMaxServiceLabels; ++i) {
    ASSERT_EQ(metrics.service_label("s" + std::to_string(i) + "."), i);
  }
  constexpr uint32_t overflow = kMaxServiceLabels - 1;
  EXPECT_EQ(metrics.service_label("one-too-many."), overflow);
  EXPECT_EQ(metrics.service_label("another."), overflow);
  metrics.count_fallback(overflow, FallbackKind::FailOpen);
  EXPECT_EQ(sample(metrics, "geosteer_steering_fallback_total",
                   {{"service", "overflow"}, {"kind", "fail_open"}}),
            1);
}

TEST(QueryMetrics, AnswerTotalsSumEveryThreadPerPair) {
  QueryMetrics metrics;
  uint32_t berlin = metrics.answer_label("s.", "berlin");
  uint32_t tokyo = metrics.answer_label("s.", "tokyo");
  std::thread([&] {
    metrics.count_answer(berlin);
    metrics.count_answer(tokyo);
  }).join();
  metrics.count_answer(berlin);

  auto totals = metrics.answer_totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[berlin].service, "s.");
  EXPECT_EQ(totals[berlin].mirror, "berlin");
  EXPECT_EQ(totals[berlin].count, 2u);
  EXPECT_EQ(totals[tokyo].mirror, "tokyo");
  EXPECT_EQ(totals[tokyo].count, 1u);
}

TEST(QueryMetrics, TextExpositionHasTheExpectedLines) {
  QueryMetrics metrics;
  for (int i = 0; i < 3; ++i) metrics.count_query(Transport::Udp, 1, 0);
  metrics.count_query(Transport::Tcp, 252, 5);
  metrics.count_dropped(DropReason::Malformed);
  metrics.count_slipped();
  metrics.count_ecs();
  uint32_t berlin = metrics.answer_label("substitutes.example.org.", "berlin");
  metrics.answer_label("substitutes.example.org.", "tokyo");
  uint32_t service = metrics.service_label("substitutes.example.org.");
  metrics.count_answer(berlin);
  metrics.count_fallback(service, FallbackKind::Fallback);

  std::string text = exposition(metrics);
  for (const char* line : {
           "# TYPE geosteer_dns_queries_total counter",
           R"(geosteer_dns_queries_total{transport="udp",qtype="A",rcode="NOERROR"} 3)",
           R"(geosteer_dns_queries_total{transport="tcp",qtype="AXFR",rcode="REFUSED"} 1)",
           "# TYPE geosteer_dns_ecs_queries_total counter",
           "geosteer_dns_ecs_queries_total 1",
           "geosteer_dns_truncated_total 0",
           R"(geosteer_dns_dropped_total{reason="malformed"} 1)",
           R"(geosteer_dns_dropped_total{reason="rate_limited"} 0)",
           R"(geosteer_dns_dropped_total{reason="response"} 0)",
           "geosteer_dns_slipped_total 1",
           R"(geosteer_steering_answers_total{service="substitutes.example.org.",mirror="berlin"} 1)",
           R"(geosteer_steering_answers_total{service="substitutes.example.org.",mirror="tokyo"} 0)",
           R"(geosteer_steering_fallback_total{service="substitutes.example.org.",kind="fallback"} 1)",
           R"(geosteer_steering_fallback_total{service="substitutes.example.org.",kind="fail_open"} 0)",
           "geosteer_steering_unlocated_total 0",
       }) {
    EXPECT_TRUE(has_line(text, line)) << "missing: " << line << "\nin:\n" << text;
  }
  // Every family documents itself.
  for (const auto& family : metrics.collect()) {
    EXPECT_TRUE(has_line(text, "# HELP " + family.name + " " + family.help)) << family.name;
  }
  // Combinations never counted stay out of the exposition.
  EXPECT_EQ(text.find(R"(qtype="MX")"), std::string::npos);
  EXPECT_EQ(text.find(R"(transport="tcp",qtype="A",)"), std::string::npos);
}

TEST(QueryMetrics, CountingDoesNotAllocate) {
  QueryMetrics metrics;
  uint32_t answer = metrics.answer_label("s.", "berlin");
  uint32_t service = metrics.service_label("s.");
  metrics.count_ecs();  // this thread's block is created on its first count
  metrics.set_catchment_window(10);  // 100 answers within 10 s: every one recorded

  geosteer::testing::AllocationCounter counter;
  for (int i = 0; i < 100; ++i) {
    metrics.count_query(Transport::Udp, static_cast<uint16_t>(i), static_cast<uint16_t>(i % 20));
    metrics.count_ecs();
    metrics.count_truncated();
    metrics.count_dropped(DropReason::RateLimited);
    metrics.count_slipped();
    metrics.count_answer(answer);
    metrics.count_fallback(service, FallbackKind::FailOpen);
    metrics.count_unlocated();
    metrics.record_catchment(answer, IpAddress::v4({130, 149, static_cast<uint8_t>(i), 0}), 24);
  }
  EXPECT_EQ(counter.stop(), 0);
  EXPECT_EQ(metrics.catchment_samples(catchment_clock()).size(), 100u);
  EXPECT_EQ(sample(metrics, "geosteer_dns_ecs_queries_total"), 101);
}

}  // namespace
}  // namespace geosteer::metrics

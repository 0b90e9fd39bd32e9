// app/rate_limit: the limiter's verdict applied to the message about to be sent.
#include "app/rate_limit.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace geosteer::app {
namespace {

using Clock = ratelimit::Limiter::Clock;
const Clock::time_point kNow = Clock::time_point{} + std::chrono::seconds(100);

// A response to "a. A": header (QR, AA, one question, one answer), question, answer.
std::vector<uint8_t> response() {
  return {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,  // header
          1, 'a', 0, 0, 1, 0, 1,                           // question
          0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};  // a. 60 IN A 192.0.2.1
}

ratelimit::Settings one_per_second(unsigned slip) {
  ratelimit::Settings settings;
  settings.responses_per_second = 1;
  settings.slip = slip;
  settings.table_entries = 64;
  return settings;
}

dns::QueryOutcome answer_outcome(dns::CookieStatus cookie = dns::CookieStatus::None) {
  dns::QueryOutcome outcome{};
  outcome.qtype = 1;
  outcome.cookie = cookie;
  std::memcpy(outcome.key_name, "\1a\0", 3);
  outcome.key_name_length = 3;
  return outcome;
}

const dns::RequestInfo kUdp{dns::Transport::Udp, IpAddress::v4({192, 0, 2, 7})};
const dns::RequestInfo kTcp{dns::Transport::Tcp, IpAddress::v4({192, 0, 2, 7})};

LimitedResponse limit(ratelimit::Limiter& limiter, const dns::QueryOutcome& outcome,
                      const dns::RequestInfo& info, std::vector<uint8_t>& message) {
  return limit_response(limiter, outcome, info, message, message.size(), kNow);
}

TEST(LimitResponse, SendsWhileUnderTheRate) {
  ratelimit::Limiter limiter(one_per_second(1));
  std::vector<uint8_t> message = response();
  LimitedResponse result = limit(limiter, answer_outcome(), kUdp, message);
  EXPECT_EQ(result.verdict, ratelimit::Verdict::Send);
  EXPECT_EQ(result.length, message.size());
}

TEST(LimitResponse, ADropSendsNothing) {
  ratelimit::Limiter limiter(one_per_second(0));
  std::vector<uint8_t> message = response();
  limit(limiter, answer_outcome(), kUdp, message);
  LimitedResponse result = limit(limiter, answer_outcome(), kUdp, message);
  EXPECT_EQ(result.verdict, ratelimit::Verdict::Drop);
  EXPECT_EQ(result.length, 0u);
}

TEST(LimitResponse, ASlipSendsTheQuestionAloneWithTc) {
  ratelimit::Limiter limiter(one_per_second(1));
  std::vector<uint8_t> message = response();
  limit(limiter, answer_outcome(), kUdp, message);
  LimitedResponse result = limit(limiter, answer_outcome(), kUdp, message);
  EXPECT_EQ(result.verdict, ratelimit::Verdict::Slip);
  ASSERT_EQ(result.length, 12u + 7u);
  EXPECT_TRUE(message[2] & 0x02);  // TC
  EXPECT_EQ(message[7], 0);        // no answer
}

TEST(LimitResponse, AResponseWithoutAQuestionIsDroppedInsteadOfSlipped) {
  ratelimit::Limiter limiter(one_per_second(1));
  std::vector<uint8_t> formerr = {0x12, 0x34, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
  limit(limiter, answer_outcome(), kUdp, formerr);
  LimitedResponse result = limit(limiter, answer_outcome(), kUdp, formerr);
  EXPECT_EQ(result.verdict, ratelimit::Verdict::Drop);
  EXPECT_EQ(result.length, 0u);
}

TEST(LimitResponse, TcpIsNeverLimited) {
  ratelimit::Limiter limiter(one_per_second(1));
  std::vector<uint8_t> message = response();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(limit(limiter, answer_outcome(), kTcp, message).length, message.size());
  }
}

TEST(LimitResponse, AValidServerCookieIsNeverLimited) {
  ratelimit::Limiter limiter(one_per_second(1));
  std::vector<uint8_t> message = response();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(limit(limiter, answer_outcome(dns::CookieStatus::Valid), kUdp, message).length,
              message.size());
  }
}

TEST(LimitResponse, AClientCookieAloneIsLimitedLikeNoCookie) {
  ratelimit::Limiter limiter(one_per_second(0));
  std::vector<uint8_t> message = response();
  limit(limiter, answer_outcome(dns::CookieStatus::ClientOnly), kUdp, message);
  EXPECT_EQ(limit(limiter, answer_outcome(dns::CookieStatus::ClientOnly), kUdp, message).length, 0u);
}

}  // namespace
}  // namespace geosteer::app

#include "healthcheck/time_text.h"

#include <gtest/gtest.h>

namespace geosteer::healthcheck {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// 2026-11-26T10:00:00Z
const system_clock::time_point kTen{seconds(1795687200)};

TEST(ParseTimestamp, ReadsUnixSecondsWithWhitespaceAndFraction) {
  EXPECT_EQ(parse_timestamp("1795687200"), kTen);
  EXPECT_EQ(parse_timestamp("  1795687200\n"), kTen);
  EXPECT_EQ(parse_timestamp("1795687200.5"), kTen + std::chrono::milliseconds(500));
}

TEST(ParseTimestamp, ReadsRfc3339InUtcAndWithOffsets) {
  EXPECT_EQ(parse_timestamp("2026-11-26T10:00:00Z\n"), kTen);
  EXPECT_EQ(parse_timestamp("2026-11-26t10:00:00z"), kTen);
  EXPECT_EQ(parse_timestamp("2026-11-26T11:30:00+01:30"), kTen);
  EXPECT_EQ(parse_timestamp("2026-11-26T05:00:00-05:00"), kTen);
  EXPECT_EQ(parse_timestamp("2026-11-26T10:00:00.123456Z"), kTen + std::chrono::milliseconds(123));
}

TEST(ParseTimestamp, RejectsEverythingElse) {
  for (const char* text : {"", "yesterday", "12abc", "1795687200.", "2026-11-26", "2026-11-26T10:00:00",
                           "2026-13-26T10:00:00Z", "2026-02-30T10:00:00Z", "2026-11-26T24:00:00Z",
                           "2026-11-26T10:00:00+1:00", "2026-11-26T10:00:00Zjunk"}) {
    EXPECT_FALSE(parse_timestamp(text).has_value()) << text;
  }
}

// A mirror controls its trace file: a time past what the clock can count (year 2262)
// is refused instead of overflowing the conversion to nanoseconds.
TEST(ParseTimestamp, RejectsTimesTheClockCannotHold) {
  for (const char* text : {"177600600000", "999999999999.9", "7258118400", "9999-12-31T23:59:59Z",
                           "2200-01-01T00:00:00Z", "0001-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_timestamp(text).has_value()) << text;
  }
  EXPECT_TRUE(parse_timestamp("7258118399").has_value());
  EXPECT_TRUE(parse_timestamp("2199-12-31T23:59:59Z").has_value());
}

TEST(FormatDuration, UsesTheLargestUnitAndTheNextWhenNotZero) {
  EXPECT_EQ(format_duration(seconds(0)), "0s");
  EXPECT_EQ(format_duration(seconds(45)), "45s");
  EXPECT_EQ(format_duration(seconds(200)), "3m20s");
  EXPECT_EQ(format_duration(seconds(9 * 3600)), "9h");
  EXPECT_EQ(format_duration(seconds(9 * 3600 + 59)), "9h");
  EXPECT_EQ(format_duration(seconds(26 * 3600)), "1d2h");
}

TEST(FormatMillis, PrintsWholeSecondsAsDurationsElseMilliseconds) {
  EXPECT_EQ(format_millis(std::chrono::milliseconds(5000)), "5s");
  EXPECT_EQ(format_millis(std::chrono::milliseconds(800)), "800ms");
  EXPECT_EQ(format_millis(std::chrono::milliseconds(1500)), "1500ms");
}

}  // namespace
}  // namespace geosteer::healthcheck

#include "common/dname.h"

#include <gtest/gtest.h>

namespace geosteer {
namespace {

using namespace std::string_literals;

TEST(Dname, AbsoluteTextBecomesLowerCaseWire) {
  EXPECT_EQ(dname::from_text("WWW.Example.ORG."), "\x03www\x07" "example\x03org\x00"s);
}

TEST(Dname, RelativeTextIsCompletedWithOrigin) {
  auto origin = *dname::from_text("example.org.");
  EXPECT_EQ(dname::from_text("ns1", origin), "\x03ns1\x07" "example\x03org\x00"s);
  EXPECT_EQ(dname::from_text("@", origin), origin);
}

TEST(Dname, RelativeTextWithoutOriginIsRejected) {
  EXPECT_FALSE(dname::from_text("ns1"));
}

TEST(Dname, RejectsEmptyAndOverlongLabels) {
  EXPECT_FALSE(dname::from_text("a..b."));
  EXPECT_FALSE(dname::from_text(std::string(64, 'a') + "."));
  EXPECT_TRUE(dname::from_text(std::string(63, 'a') + "."));
}

TEST(Dname, RejectsNamesLongerThan255Octets) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += std::string(60, 'a') + ".";
  EXPECT_FALSE(dname::from_text(name));
}

TEST(Dname, DecimalEscapeIsOneOctet) {
  EXPECT_EQ(dname::from_text("a\\046b."), "\x03" "a.b\x00"s);
  EXPECT_FALSE(dname::from_text("a\\25"));
}

TEST(Dname, ToTextRoundTripsAndEscapesDots) {
  EXPECT_EQ(dname::to_text(*dname::from_text("www.example.org.")), "www.example.org.");
  EXPECT_EQ(dname::to_text("\x03" "a.b\x00"s), "a\\.b.");
  EXPECT_EQ(dname::to_text("\x00"s), ".");
}

TEST(Dname, SubdomainIsDecidedOnLabelBoundaries) {
  auto org = *dname::from_text("example.org.");
  EXPECT_TRUE(dname::is_subdomain(*dname::from_text("a.example.org."), org));
  EXPECT_TRUE(dname::is_subdomain(org, org));
  EXPECT_FALSE(dname::is_subdomain(*dname::from_text("aexample.org."), org));
  EXPECT_FALSE(dname::is_subdomain(*dname::from_text("org."), org));
}

TEST(Dname, LabelCountAndParent) {
  auto name = *dname::from_text("a.b.example.org.");
  EXPECT_EQ(dname::label_count(name), 4u);
  EXPECT_EQ(dname::parent(name), *dname::from_text("b.example.org."));
  EXPECT_EQ(dname::label_count("\x00"s), 0u);
}

}  // namespace
}  // namespace geosteer

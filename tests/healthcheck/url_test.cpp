#include "healthcheck/url.h"

#include <gtest/gtest.h>

namespace geosteer::healthcheck {
namespace {

Url parsed(std::string_view text) {
  std::optional<Url> url = Url::parse(text);
  EXPECT_TRUE(url.has_value()) << text;
  return url.value_or(Url{});
}

TEST(Url, ParsesSchemeHostDefaultPortAndTarget) {
  Url url = parsed("HTTPS://Mirror.Example.org/guix/");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "mirror.example.org");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.target, "/guix/");
  EXPECT_EQ(parsed("http://mirror.example.org").target, "/");
  EXPECT_EQ(parsed("http://mirror.example.org").port, 80);
}

TEST(Url, ParsesExplicitPortsAndBracketedIpv6) {
  Url url = parsed("http://[2001:db8::1]:8080/x?y=1#fragment");
  EXPECT_EQ(url.host, "2001:db8::1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/x?y=1");
  EXPECT_EQ(url.to_string(), "http://[2001:db8::1]:8080/x?y=1");
}

TEST(Url, RejectsOtherSchemesBadPortsAndUserInfo) {
  EXPECT_FALSE(Url::parse("ftp://mirror.example.org/"));
  EXPECT_FALSE(Url::parse("mirror.example.org/"));
  EXPECT_FALSE(Url::parse("http://mirror.example.org:0/"));
  EXPECT_FALSE(Url::parse("http://mirror.example.org:65536/"));
  EXPECT_FALSE(Url::parse("http://mirror.example.org:80x/"));
  EXPECT_FALSE(Url::parse("http://user@mirror.example.org/"));
  EXPECT_FALSE(Url::parse("http://[::1/"));
}

TEST(Url, AuthorityNamesThePortOnlyWhenNotTheDefault) {
  EXPECT_EQ(parsed("https://m.example.org:443/").authority(), "m.example.org");
  EXPECT_EQ(parsed("https://m.example.org:8443/").authority(), "m.example.org:8443");
}

TEST(Url, ResolvesEveryKindOfReference) {
  Url base = parsed("https://m.example.org/guix/nix-cache-info?x=1");
  EXPECT_EQ(base.resolve("other")->to_string(), "https://m.example.org/guix/other");
  EXPECT_EQ(base.resolve("/root")->to_string(), "https://m.example.org/root");
  EXPECT_EQ(base.resolve("?y=2")->to_string(), "https://m.example.org/guix/nix-cache-info?y=2");
  EXPECT_EQ(base.resolve("//cdn.example.net/a")->to_string(), "https://cdn.example.net/a");
  EXPECT_EQ(base.resolve("http://cdn.example.net:81/a")->to_string(),
            "http://cdn.example.net:81/a");
  EXPECT_EQ(base.resolve("")->to_string(), base.to_string());
}

TEST(Url, SchemeInsideAQueryDoesNotMakeAReferenceAbsolute) {
  Url base = parsed("https://m.example.org/guix/nix-cache-info");
  EXPECT_EQ(base.resolve("/login?next=https://m.example.org/x")->to_string(),
            "https://m.example.org/login?next=https://m.example.org/x");
  EXPECT_EQ(base.resolve("x?u=http://a")->to_string(), "https://m.example.org/guix/x?u=http://a");
}

}  // namespace
}  // namespace geosteer::healthcheck

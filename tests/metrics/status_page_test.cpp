// The status page and its JSON twin: what they show, where the map puts each
// mirror, and that nothing from the model can break out of its text.
#include "metrics/status_page.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <regex>

#include <nlohmann/json.hpp>

namespace geosteer::metrics {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01 00:00:00 UTC

MirrorStatus mirror(std::string id, double lat, double lon, std::string state) {
  MirrorStatus m;
  m.id = std::move(id);
  m.url = "https://" + m.id + ".mirror.example/";
  m.lat = lat;
  m.lon = lon;
  m.state = std::move(state);
  m.probed = true;
  return m;
}

StatusModel sample_model() {
  StatusModel model;
  model.identity = "geosteer-test-1";
  model.version = "0.1.0";
  model.generation = 7;
  model.config_loaded_unix = kNow - 3600;
  model.now_unix = kNow;
  model.probes_enabled = true;

  auto berlin = mirror("berlin", 52.52, 13.40, "up");
  berlin.latency_ms = 42.4;
  berlin.lag_seconds = 42;
  auto tokyo = mirror("tokyo", 35.68, 139.69, "down");
  tokyo.reason = "connect refused";
  tokyo.last_transition_unix = kNow - 300;
  auto sao_paulo = mirror("sao-paulo", -23.55, -46.63, "stale");
  sao_paulo.reason = "stale: lag 9h > 6h";
  sao_paulo.lag_seconds = 9 * 3600 + 59;
  auto us_west = mirror("us-west", 37.77, -122.42, "slow");
  us_west.latency_ms = 1234.0;
  us_west.lag_seconds = 2 * 86400 + 100;
  auto sydney = mirror("sydney", -33.87, 151.21, "drained");
  sydney.probed = false;
  model.mirrors = {berlin, tokyo, sao_paulo, us_west, sydney};

  ServiceStatus substitutes{"substitutes.guix.example.org.",
                            {{"berlin", 0.75, 300}, {"tokyo", 0.0, 0}, {"us-west", 0.25, 100}}};
  ServiceStatus ci{"ci.guix.example.org.", {{"sao-paulo", 1.0, 12}, {"sydney", 0.0, 0}}};
  model.services = {substitutes, ci};
  return model;
}

std::string one_decimal(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The table row of `mirror` in the section of `service`, up to its </tr>.
std::string row_of(const std::string& html, const std::string& service, const std::string& id) {
  size_t section = html.find("data-service=\"" + service + "\"");
  if (section == std::string::npos) return "";
  size_t row = html.find("data-mirror=\"" + id + "\">", section);
  if (row == std::string::npos) return "";
  size_t row_start = html.rfind("<tr", row);
  return html.substr(row_start, html.find("</tr>", row) - row_start);
}

TEST(StatusHtml, IsOneSelfRefreshingPageWithoutExternalAssetsOrScripts) {
  std::string html = render_status_html(sample_model());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_TRUE(contains(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(contains(html, "<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_TRUE(contains(html, "</html>"));
  for (const char* outside : {"<script", "<link", " src=", "@import", "url(", "<iframe"}) {
    EXPECT_FALSE(contains(html, outside)) << outside;
  }
}

TEST(StatusHtml, ShowsIdentityVersionGenerationAndProbeState) {
  std::string html = render_status_html(sample_model());
  EXPECT_TRUE(contains(html, "<title>geosteer geosteer-test-1 (0.1.0)</title>"));
  EXPECT_TRUE(contains(html, "<span id=\"generation\">7</span>"));
  EXPECT_TRUE(contains(html, "loaded 2025-12-31 23:00:00 UTC"));
  EXPECT_TRUE(contains(html, "<span id=\"probes\">enabled</span>"));
}

TEST(StatusHtml, PlacesEachMirrorOnTheMapAtItsProjectedCoordinates) {
  StatusModel model = sample_model();
  std::string html = render_status_html(model);
  ASSERT_TRUE(contains(html, "<svg"));
  for (const MirrorStatus& m : model.mirrors) {
    // Equirectangular on a 1000 x 500 map.
    double x = (m.lon + 180) / 360 * 1000;
    double y = (90 - m.lat) / 180 * 500;
    std::string dot = "<circle class=\"dot state-" + m.state + "\" data-mirror=\"" + m.id +
                      "\" cx=\"" + one_decimal(x) + "\" cy=\"" + one_decimal(y) + "\"";
    EXPECT_TRUE(contains(html, dot)) << dot;
  }
  // Berlin, worked out by hand.
  EXPECT_TRUE(contains(html, "data-mirror=\"berlin\" cx=\"537.2\" cy=\"104.1\""));
}

TEST(StatusHtml, DotTooltipNamesMirrorStateAndReason) {
  std::string html = render_status_html(sample_model());
  EXPECT_TRUE(contains(html, "<title>tokyo: down (connect refused)</title>"));
  EXPECT_TRUE(contains(html, "<text class=\"label\""));
}

TEST(StatusHtml, DrawsContinentsGraticuleAndLegend) {
  std::string html = render_status_html(sample_model());
  std::regex polygon("<polygon points=\"");
  auto polygons = std::distance(std::sregex_iterator(html.begin(), html.end(), polygon),
                                std::sregex_iterator());
  EXPECT_GE(polygons, 7);
  for (const char* name : {"North America", "South America", "Eurasia", "Africa", "Australia"}) {
    EXPECT_TRUE(contains(html, std::string("<title>") + name + "</title>")) << name;
  }
  EXPECT_TRUE(contains(html, "class=\"graticule\""));
  std::string legend = html.substr(html.find("<g class=\"legend\""));
  for (std::string state : {"up", "stale", "slow", "down", "drained"}) {
    EXPECT_TRUE(contains(legend, "<circle class=\"dot state-" + state + "\" cx=\"8\"")) << state;
    EXPECT_TRUE(contains(legend, ">" + state + "</text>")) << state;
  }
}

TEST(StatusHtml, HasOneTablePerServiceWithARowPerMirror) {
  std::string html = render_status_html(sample_model());
  EXPECT_TRUE(contains(html, "<h2>substitutes.guix.example.org.</h2>"));
  EXPECT_TRUE(contains(html, "<h2>ci.guix.example.org.</h2>"));
  EXPECT_TRUE(contains(row_of(html, "substitutes.guix.example.org.", "tokyo"),
                       "<tr class=\"mirror state-down\" data-mirror=\"tokyo\">"));
  EXPECT_TRUE(contains(row_of(html, "ci.guix.example.org.", "sydney"),
                       "<tr class=\"mirror state-drained\" data-mirror=\"sydney\">"));
  EXPECT_EQ(row_of(html, "ci.guix.example.org.", "berlin"), "");  // not in that service
}

TEST(StatusHtml, RowShowsStateReasonLatencyLagShareAndTransition) {
  std::string html = render_status_html(sample_model());
  std::string berlin = row_of(html, "substitutes.guix.example.org.", "berlin");
  EXPECT_TRUE(contains(berlin, "<span class=\"badge state-up\">up</span>")) << berlin;
  EXPECT_TRUE(contains(berlin, "<td class=\"latency\">42 ms</td>")) << berlin;
  EXPECT_TRUE(contains(berlin, "<td class=\"lag\">42s</td>")) << berlin;
  EXPECT_TRUE(contains(berlin, "<td class=\"share\">75.0%</td>")) << berlin;
  EXPECT_TRUE(contains(berlin, "<td class=\"answers\">300</td>")) << berlin;
  EXPECT_TRUE(contains(berlin, "<td class=\"transition\">since start</td>")) << berlin;

  std::string tokyo = row_of(html, "substitutes.guix.example.org.", "tokyo");
  EXPECT_TRUE(contains(tokyo, "<td class=\"reason\">connect refused</td>")) << tokyo;
  EXPECT_TRUE(contains(tokyo,
                       "<time datetime=\"2025-12-31T23:55:00Z\">2025-12-31 23:55:00 UTC</time> "
                       "(5m ago)"))
      << tokyo;
  EXPECT_TRUE(contains(tokyo, "<td class=\"latency\">&#8211;</td>")) << tokyo;
}

TEST(StatusHtml, ShowsLagInItsLargestWholeUnit) {
  std::string html = render_status_html(sample_model());
  EXPECT_TRUE(contains(row_of(html, "ci.guix.example.org.", "sao-paulo"),
                       "<td class=\"lag\">9h</td>"));
  EXPECT_TRUE(contains(row_of(html, "substitutes.guix.example.org.", "us-west"),
                       "<td class=\"lag\">2d</td>"));
  EXPECT_TRUE(contains(row_of(html, "substitutes.guix.example.org.", "us-west"),
                       "<td class=\"latency\">1234 ms</td>"));
}

TEST(StatusHtml, EscapesAHostileReasonEverywhere) {
  StatusModel model = sample_model();
  model.mirrors[1].reason = "<script>alert(1)</script>";
  std::string html = render_status_html(model);
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_TRUE(contains(row_of(html, "substitutes.guix.example.org.", "tokyo"),
                       "<td class=\"reason\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  EXPECT_TRUE(contains(html, "<title>tokyo: down (&lt;script&gt;alert(1)&lt;/script&gt;)</title>"));
}

TEST(StatusHtml, EscapesIdsInAttributesAndStatesInClasses) {
  StatusModel model = sample_model();
  model.mirrors[0].id = "x\" onmouseover=\"alert(1)";
  model.mirrors[0].state = "up\" style=\"x";
  model.services[0].mirrors[0].mirror = model.mirrors[0].id;
  std::string html = render_status_html(model);
  EXPECT_FALSE(contains(html, "\" onmouseover"));
  EXPECT_TRUE(contains(html, "data-mirror=\"x&quot; onmouseover=&quot;alert(1)\""));
  // An unknown state is shown (escaped) but never becomes a class of its own.
  EXPECT_TRUE(contains(html, "<circle class=\"dot state-unknown\""));
  EXPECT_TRUE(contains(html, ">up&quot; style=&quot;x</span>"));
}

TEST(StatusHtml, ReplacesMalformedUtf8AndControlCharacters) {
  StatusModel model = sample_model();
  model.mirrors[1].reason = std::string("bad \xff byte, bell \x07, caf\xc3\xa9");
  std::string html = render_status_html(model);
  EXPECT_TRUE(contains(html, "bad \xEF\xBF\xBD byte, bell \xEF\xBF\xBD, caf\xc3\xa9"));
}

TEST(StatusHtml, ListsAServiceMirrorMissingFromTheMirrorsAsUnknown) {
  StatusModel model = sample_model();
  model.services[0].mirrors.push_back({"ghost", 0.0, 0});
  std::string html = render_status_html(model);
  EXPECT_TRUE(contains(row_of(html, "substitutes.guix.example.org.", "ghost"),
                       "<tr class=\"mirror state-unknown\" data-mirror=\"ghost\">"));
}

// ---- JSON ----------------------------------------------------------------------

using nlohmann::json;

// The parsed document; a test failure (with the parser's reason) when it is not JSON.
json parse_json(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    ADD_FAILURE() << e.what() << "\n" << text;
    return nullptr;
  }
}

TEST(StatusJson, HoldsTheModelsValues) {
  json status = parse_json(render_status_json(sample_model()));
  EXPECT_EQ(status.at("identity"), "geosteer-test-1");
  EXPECT_EQ(status.at("version"), "0.1.0");
  EXPECT_EQ(status.at("generation"), 7);
  EXPECT_EQ(status.at("now_unix"), kNow);
  EXPECT_EQ(status.at("share_window_seconds"), 300);
  EXPECT_EQ(status.at("probes_enabled"), true);

  const json& berlin = status.at("mirrors").at(0);
  EXPECT_EQ(berlin.at("id"), "berlin");
  EXPECT_EQ(berlin.at("lat"), 52.52);
  EXPECT_EQ(berlin.at("lon"), 13.40);
  EXPECT_EQ(berlin.at("state"), "up");
  EXPECT_EQ(berlin.at("latency_ms"), 42.4);
  EXPECT_EQ(berlin.at("lag_seconds"), 42);
  EXPECT_TRUE(berlin.at("last_transition_unix").is_null());
  EXPECT_EQ(status.at("mirrors").at(1).at("last_transition_unix"), kNow - 300);
  EXPECT_TRUE(status.at("mirrors").at(1).at("latency_ms").is_null());
  EXPECT_EQ(status.at("mirrors").at(4).at("probed"), false);

  const json& substitutes = status.at("services").at(0);
  EXPECT_EQ(substitutes.at("name"), "substitutes.guix.example.org.");
  EXPECT_EQ(substitutes.at("mirrors").at(0).at("mirror"), "berlin");
  EXPECT_EQ(substitutes.at("mirrors").at(0).at("answer_share"), 0.75);
  EXPECT_EQ(substitutes.at("mirrors").at(0).at("answers"), 300);
  EXPECT_EQ(status.at("services").at(1).at("mirrors").size(), 2u);
}

// A mirror with two addresses, one of them down, and one that is flapping.
StatusModel model_with_addresses() {
  StatusModel model = sample_model();
  MirrorStatus& berlin = model.mirrors[0];
  berlin.state = "down";
  berlin.reason = "192.0.2.2: connect refused";
  berlin.fresh = true;
  berlin.addresses = {{"192.0.2.1", "up", ""}, {"192.0.2.2", "down", "connect refused"}};
  MirrorStatus& tokyo = model.mirrors[1];
  tokyo.state = "flapping";
  tokyo.reason = "flapping: 5 changes within 10m, now up";
  tokyo.flapping = true;
  tokyo.addresses = {{"192.0.2.9", "flapping", tokyo.reason}};
  return model;
}

TEST(StatusJson, HoldsEachAddressFreshnessAndFlapping) {
  json status = parse_json(render_status_json(model_with_addresses()));
  const json& berlin = status.at("mirrors").at(0);
  ASSERT_EQ(berlin.at("addresses").size(), 2u);
  EXPECT_EQ(berlin.at("addresses").at(1).at("address"), "192.0.2.2");
  EXPECT_EQ(berlin.at("addresses").at(1).at("state"), "down");
  EXPECT_EQ(berlin.at("addresses").at(1).at("reason"), "connect refused");
  EXPECT_EQ(berlin.at("fresh"), true);
  EXPECT_EQ(berlin.at("flapping"), false);
  const json& tokyo = status.at("mirrors").at(1);
  EXPECT_EQ(tokyo.at("flapping"), true);
  EXPECT_EQ(tokyo.at("state"), "flapping");
  EXPECT_TRUE(tokyo.at("fresh").is_null());  // never checked
}

TEST(StatusHtml, ListsEachAddressOfAMirrorWithSeveral) {
  std::string html = render_status_html(model_with_addresses());
  std::string berlin = row_of(html, "substitutes.guix.example.org.", "berlin");
  EXPECT_TRUE(contains(berlin, "<li data-address=\"192.0.2.2\">192.0.2.2 <span class=\"badge "
                               "state-down\">down</span> connect refused</li>"))
      << berlin;
  EXPECT_TRUE(contains(berlin, "<li data-address=\"192.0.2.1\">")) << berlin;
  // One address: its state is the mirror's, no list.
  EXPECT_FALSE(contains(row_of(html, "substitutes.guix.example.org.", "tokyo"), "<li"));
}

TEST(StatusHtml, FlappingHasAStateOfItsOwn) {
  std::string html = render_status_html(model_with_addresses());
  std::string tokyo = row_of(html, "substitutes.guix.example.org.", "tokyo");
  EXPECT_TRUE(contains(tokyo, "<tr class=\"mirror state-flapping\" data-mirror=\"tokyo\">"))
      << tokyo;
  std::string legend = html.substr(html.find("<g class=\"legend\""));
  EXPECT_TRUE(contains(legend, ">flapping</text>"));
}

TEST(StatusJson, EscapesQuotesBackslashesAndControlCharacters) {
  StatusModel model = sample_model();
  std::string hostile = "say \"hi\" \\ then\nnew line\t\x01\x1f </script> caf\xc3\xa9 \xe2\x82\xac";
  model.mirrors[0].reason = hostile;
  std::string text = render_status_json(model);
  EXPECT_TRUE(contains(text, R"(say \"hi\" \\ then\nnew line\t\u0001\u001f)"));
  EXPECT_TRUE(contains(text, "caf\xc3\xa9 \xe2\x82\xac"));  // UTF-8 passed through as is
  EXPECT_EQ(parse_json(text).at("mirrors").at(0).at("reason"), hostile);
}

TEST(StatusJson, ReplacesMalformedUtf8) {
  StatusModel model = sample_model();
  model.mirrors[0].reason = std::string("bad \xc3 end \xed\xa0\x80");
  EXPECT_EQ(parse_json(render_status_json(model)).at("mirrors").at(0).at("reason"),
            "bad \xEF\xBF\xBD end \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

// JSON has no NaN or infinity: an unknown location or share must not break the document.
TEST(StatusJson, WritesNonFiniteNumbersAsNull) {
  StatusModel model = sample_model();
  model.mirrors[0].lat = std::nan("");
  model.mirrors[0].latency_ms = std::numeric_limits<double>::infinity();
  model.services[0].mirrors[0].answer_share = std::nan("");
  json status = parse_json(render_status_json(model));
  EXPECT_TRUE(status.at("mirrors").at(0).at("lat").is_null());
  EXPECT_TRUE(status.at("mirrors").at(0).at("latency_ms").is_null());
  EXPECT_TRUE(status.at("services").at(0).at("mirrors").at(0).at("answer_share").is_null());
}

TEST(StatusJson, EmptyModelIsValid) {
  json status = parse_json(render_status_json(StatusModel{}));
  EXPECT_TRUE(status.at("mirrors").is_array());
  EXPECT_TRUE(status.at("mirrors").empty());
  EXPECT_TRUE(status.at("services").is_array());
  EXPECT_TRUE(status.at("services").empty());
}

TEST(StatusJson, IsAcceptedByPython) {
  StatusModel model = sample_model();
  model.mirrors[1].reason = "tab\there \"quoted\" \x02 caf\xc3\xa9";
  std::string path =
      ::testing::TempDir() + "geosteer-status-" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << render_status_json(model);
  std::string command =
      "python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding=\"utf-8\")); "
      "sys.exit(0 if d[\"mirrors\"][1][\"reason\"] == \"tab\\there \\\"quoted\\\" \\x02 caf\\xe9\" "
      "and d[\"mirrors\"][0][\"lat\"] == 52.52 else 1)' " + path;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace geosteer::metrics

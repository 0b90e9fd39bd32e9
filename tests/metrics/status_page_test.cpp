// The status page and its JSON twin: what they show, where the map puts each
// mirror, and that nothing from the model can break out of its text.
#include "metrics/status_page.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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

// ---- who goes where: catchments, co-located mirrors, the mirror list -------------

namespace geosteer::metrics {
namespace {

// Berlin's clients: 40 from its own cell, 3 from Tokyo's, 2 GeoIP could not place;
// Tokyo's: 10 from Tokyo.
StatusModel model_with_catchments() {
  StatusModel model = sample_model();
  model.mirrors[0].catchment.cells = {{52, 14, {"DE"}, 40}, {36, 140, {"JP"}, 3}};
  model.mirrors[0].catchment.unlocated = 2;
  model.mirrors[1].catchment.cells = {{36, 140, {"JP"}, 10}};
  return model;
}

struct Circle {
  double x = -1, y = -1, r = -1;
  std::string fill;
};

// The catchment dot of `mirror` on cell "lat,lon", or r = -1 when there is none.
Circle catchment_dot(const std::string& html, const std::string& mirror, const std::string& cell) {
  std::regex dot("<circle class=\"catchment\" data-mirror=\"" + mirror + "\" data-cell=\"" + cell +
                 "\" data-answers=\"\\d+\" cx=\"([-0-9.]+)\" cy=\"([-0-9.]+)\" r=\"([0-9.]+)\" "
                 "fill=\"([^\"]+)\"");
  std::smatch m;
  if (!std::regex_search(html, m, dot)) return {};
  return {std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), m[4]};
}

// Where the marker of `mirror` is drawn, and the colour of the ring around it.
Circle marker(const std::string& html, const std::string& mirror) {
  std::regex halo("<circle class=\"halo\" cx=\"[-0-9.]+\" cy=\"[-0-9.]+\" r=\"[0-9.]+\" "
                  "stroke=\"([^\"]+)\"/><circle class=\"dot state-[a-z]+\" data-mirror=\"" + mirror +
                  "\" cx=\"([-0-9.]+)\" cy=\"([-0-9.]+)\" r=\"([0-9.]+)\"");
  std::smatch m;
  if (!std::regex_search(html, m, halo)) return {};
  return {std::stod(m[2]), std::stod(m[3]), std::stod(m[4]), m[1]};
}

double distance(const Circle& a, const Circle& b) { return std::hypot(a.x - b.x, a.y - b.y); }

TEST(StatusHtml, DrawsEachCatchmentCellAsADotInItsMirrorsColour) {
  std::string html = render_status_html(model_with_catchments());
  Circle home = catchment_dot(html, "berlin", "52,14");
  Circle far = catchment_dot(html, "berlin", "36,140");
  ASSERT_GT(home.r, 0) << html;
  ASSERT_GT(far.r, 0);
  // On the cell's centre: 14°E, 52°N on the 1000 x 500 map.
  EXPECT_NEAR(home.x, (14.0 + 180) / 360 * 1000, 0.05);
  EXPECT_NEAR(home.y, (90 - 52.0) / 180 * 500, 0.05);
  Circle berlin = marker(html, "berlin");
  Circle tokyo = marker(html, "tokyo");
  ASSERT_FALSE(berlin.fill.empty());
  EXPECT_EQ(home.fill, berlin.fill);
  EXPECT_EQ(far.fill, berlin.fill);
  EXPECT_EQ(catchment_dot(html, "tokyo", "36,140").fill, tokyo.fill);
  EXPECT_NE(berlin.fill, tokyo.fill);
  // No dot where a mirror had no clients.
  EXPECT_LT(catchment_dot(html, "tokyo", "52,14").r, 0);
}

TEST(StatusHtml, CatchmentDotsGrowWithAnswersUpToACap) {
  StatusModel model = model_with_catchments();
  std::string html = render_status_html(model);
  double three = catchment_dot(html, "berlin", "36,140").r;
  double ten = catchment_dot(html, "tokyo", "36,140").r;
  double forty = catchment_dot(html, "berlin", "52,14").r;
  EXPECT_LT(three, ten);
  EXPECT_LT(ten, forty);
  // Area, not radius, in proportion: four times the answers, at most twice the radius.
  EXPECT_LE(forty, 2 * ten);

  model.mirrors[0].catchment.cells[0].answers = 100000000;
  html = render_status_html(model);
  EXPECT_LE(catchment_dot(html, "berlin", "52,14").r, 18);
  EXPECT_GT(catchment_dot(html, "berlin", "36,140").r, 0);
}

TEST(StatusHtml, CatchmentDotTooltipCountsTheAnswersFromItsCell) {
  StatusModel model = model_with_catchments();
  model.mirrors[3].catchment.cells = {{-34, -58, {"AR", "UY"}, 1}};  // us-west
  std::string html = render_status_html(model);
  EXPECT_TRUE(contains(html, "<title>40 answers from 52\u00B0N 14\u00B0E (DE) to berlin</title>"));
  EXPECT_TRUE(contains(html, "<title>1 answer from 34\u00B0S 58\u00B0W (AR, UY) to us-west</title>"));
  // Counts scaled from samples say so.
  model.mirrors[1].catchment.estimated = true;
  html = render_status_html(model);
  EXPECT_TRUE(contains(html, "<title>\u224810 answers from 36\u00B0N 140\u00B0E (JP) to tokyo</title>"));
}

TEST(StatusHtml, CatchmentLinesTakeTheShortWayRoundTheWorld) {
  StatusModel model = sample_model();
  model.mirrors[1].catchment.cells = {{38, -122, {"US"}, 5}};  // California to Tokyo
  std::string html = render_status_html(model);
  std::regex spoke("<line class=\"spoke\" x1=\"([-0-9.]+)\" y1=\"[-0-9.]+\" x2=\"([-0-9.]+)\"");
  std::vector<std::pair<double, double>> lines;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), spoke); it != std::sregex_iterator(); ++it) {
    lines.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  }
  ASSERT_EQ(lines.size(), 2u) << "one line each side of the map's edge";
  EXPECT_LT(lines[0].second, 0);     // from California west off the map
  EXPECT_GT(lines[1].first, 1000);   // and in from the east to Tokyo
}

TEST(StatusHtml, MirrorsAtTheSamePlaceAreDrawnSideBySide) {
  StatusModel model = sample_model();
  model.mirrors.push_back(mirror("berlin-2", 52.52, 13.40, "up"));
  std::string html = render_status_html(model);
  Circle first = marker(html, "berlin");
  Circle second = marker(html, "berlin-2");
  ASSERT_GT(first.r, 0);
  ASSERT_GT(second.r, 0);
  EXPECT_GE(distance(first, second), 2 * 8.5) << "the rings around the markers must not touch";
  EXPECT_EQ(first.y, second.y);  // a row
  // Around where they both are, each with a leader line to it.
  EXPECT_NEAR((first.x + second.x) / 2, 537.2, 0.1);
  EXPECT_TRUE(contains(html, "<line class=\"leader\" x1=\"537.2\" y1=\"104.1\""));
  // Mirrors elsewhere stay where they are.
  EXPECT_NEAR(marker(html, "tokyo").x, (139.69 + 180) / 360 * 1000, 0.05);
}

TEST(StatusHtml, MirrorsAFewPixelsApartAreDrawnSideBySide) {
  StatusModel model = sample_model();
  model.mirrors.push_back(mirror("potsdam", 52.39, 13.06, "up"));  // 1 pixel from Berlin
  std::string html = render_status_html(model);
  EXPECT_GE(distance(marker(html, "berlin"), marker(html, "potsdam")), 2 * 8.5);
}

TEST(StatusHtml, ManyMirrorsAtOnePlaceFormARingWhereNoneTouches) {
  StatusModel model = sample_model();
  for (int i = 2; i <= 7; ++i) model.mirrors.push_back(mirror("berlin-" + std::to_string(i), 52.52, 13.40, "up"));
  std::string html = render_status_html(model);
  std::vector<Circle> markers = {marker(html, "berlin")};
  for (int i = 2; i <= 7; ++i) markers.push_back(marker(html, "berlin-" + std::to_string(i)));
  for (size_t a = 0; a < markers.size(); ++a) {
    ASSERT_GT(markers[a].r, 0) << a;
    for (size_t b = a + 1; b < markers.size(); ++b) {
      EXPECT_GE(distance(markers[a], markers[b]), 2 * 8.5 - 0.2) << a << " and " << b;
    }
  }
}

// The row of `mirror` in the mirror list.
std::string mirror_list_row(const std::string& html, const std::string& id) {
  size_t row = html.find("<tr class=\"mirror-config\" data-mirror=\"" + id + "\">");
  if (row == std::string::npos) return "";
  return html.substr(row, html.find("</tr>", row) - row);
}

TEST(StatusHtml, MirrorListShowsAddressesFamiliesWeightAndHome) {
  StatusModel model = sample_model();
  MirrorStatus& berlin = model.mirrors[0];
  berlin.ipv4 = {"192.0.2.1"};
  berlin.ipv6 = {"2001:db8::1"};
  berlin.weight = 250;
  berlin.home_networks = {"198.51.100.0/24"};
  berlin.home_asns = {680};
  model.mirrors[1].ipv4 = {"192.0.2.9"};
  std::string html = render_status_html(model);
  std::string row = mirror_list_row(html, "berlin");
  ASSERT_FALSE(row.empty()) << html;
  EXPECT_TRUE(contains(row, "<li>192.0.2.1</li><li>2001:db8::1</li>")) << row;
  EXPECT_TRUE(contains(row, "<td class=\"families\">IPv4, IPv6</td>")) << row;
  EXPECT_TRUE(contains(row, "<td class=\"weight\">250</td>")) << row;
  EXPECT_TRUE(contains(row, "<li>198.51.100.0/24</li><li>AS680</li>")) << row;
  EXPECT_TRUE(contains(row, "<td class=\"location\">52.52, 13.40</td>")) << row;
  EXPECT_TRUE(contains(row, "class=\"swatch\" style=\"background:" + marker(html, "berlin").fill + "\""));
  std::string tokyo = mirror_list_row(html, "tokyo");
  EXPECT_TRUE(contains(tokyo, "<td class=\"families\">IPv4</td>")) << tokyo;
  EXPECT_TRUE(contains(tokyo, "<td class=\"weight\">100</td>")) << tokyo;
  EXPECT_TRUE(contains(tokyo, "<td class=\"home\">&#8211;</td>")) << tokyo;
  EXPECT_TRUE(contains(mirror_list_row(html, "sydney"), "<td class=\"families\">none</td>"));
}

TEST(StatusHtml, MirrorListSummarisesEachMirrorsClients) {
  std::string html = render_status_html(model_with_catchments());
  std::string berlin = mirror_list_row(html, "berlin");
  EXPECT_TRUE(contains(berlin, "45 answers")) << berlin;
  EXPECT_TRUE(contains(berlin, "<li>52\u00B0N 14\u00B0E (DE): 40</li><li>36\u00B0N 140\u00B0E (JP): 3</li>"))
      << berlin;
  EXPECT_TRUE(contains(berlin, "<li>not located: 2</li>")) << berlin;
  EXPECT_TRUE(contains(mirror_list_row(html, "sydney"), "<td class=\"clients\">none</td>"));
  EXPECT_TRUE(contains(html, "<th>clients over the last 5m</th>"));
}

TEST(StatusHtml, ShowsTheQueryRateAsASparklineWithTheCurrentRate) {
  StatusModel model = sample_model();
  for (int i = 0; i < 90; ++i) {
    model.query_rate.push_back({kNow - 890 + 10 * i, i == 45 ? 80.0 : i == 89 ? 12.5 : 6.0});
  }
  std::string html = render_status_html(model);
  EXPECT_TRUE(contains(html, "<span id=\"current-rate\">12.5</span> queries/s")) << html;
  EXPECT_TRUE(contains(html, "peak 80.0 queries/s over the last 15m"));
  std::regex line("<svg class=\"spark\"[^>]*>.*<polyline class=\"line\" points=\"([^\"]+)\"/></svg>");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, line));
  std::string points = m[1];
  EXPECT_EQ(std::count(points.begin(), points.end(), ','), 90);
  // The peak reaches the top, the last point is at the right edge.
  EXPECT_TRUE(contains(points, ",3.0 ")) << points;
  EXPECT_EQ(points.substr(points.rfind(' ') + 1, 6), "317.0,") << points;
}

TEST(StatusHtml, SaysTheQueryRateIsNotMeasuredYet) {
  std::string html = render_status_html(sample_model());
  EXPECT_TRUE(contains(html, "Not measured yet: the rate is taken every 10s."));
  EXPECT_FALSE(contains(html, "class=\"spark\""));
}

TEST(StatusHtml, ListsEachGeoIpDatabaseWithItsBuildDateAndAge) {
  StatusModel model = sample_model();
  model.databases = {{"/var/lib/geoip/dbip-city-lite.mmdb", "city", "DBIP-City-Lite", 6, kNow - 42 * 86400},
                     {"/var/lib/geoip/asn.mmdb", "asn", "GeoLite2-ASN", 6, kNow - 3 * 3600}};
  std::string html = render_status_html(model);
  size_t row = html.find("<tr data-database=\"/var/lib/geoip/dbip-city-lite.mmdb\">");
  ASSERT_NE(row, std::string::npos) << html;
  std::string city = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_TRUE(contains(city, "<td class=\"kind\">city</td><td class=\"type\">DBIP-City-Lite</td>"
                             "<td class=\"version\">IPv6</td>")) << city;
  EXPECT_TRUE(contains(city, "<time datetime=\"2025-11-20\">2025-11-20</time> (42d old)")) << city;
  EXPECT_TRUE(contains(html, "<td class=\"kind\">asn</td>"));
  EXPECT_TRUE(contains(html, "(3h old)"));
}

TEST(StatusHtml, CreditsDbIpWhereItsDataLocatesClients) {
  StatusModel model = sample_model();
  model.databases = {{"/var/lib/geoip/dbip-city-lite.mmdb", "city", "DBIP-City-Lite", 6, kNow}};
  EXPECT_TRUE(contains(render_status_html(model), "<a href=\"https://db-ip.com\">IP Geolocation by DB-IP</a>"));
  model.databases = {{"/var/lib/geoip/GeoLite2-City.mmdb", "city", "GeoLite2-City", 6, kNow}};
  EXPECT_FALSE(contains(render_status_html(model), "db-ip.com"));
}

TEST(StatusHtml, EscapesDatabasePathsCountriesAndAddresses) {
  StatusModel model = model_with_catchments();
  model.databases = {{"/tmp/<b>x\".mmdb", "city", "<i>", 4, kNow}};
  model.mirrors[0].catchment.cells[0].countries = {"<s>"};
  model.mirrors[0].ipv4 = {"<u>"};
  std::string html = render_status_html(model);
  for (const char* raw : {"<b>", "<i>", "<s>", "<u>", "x\".mmdb"}) EXPECT_FALSE(contains(html, raw)) << raw;
  EXPECT_TRUE(contains(html, "data-database=\"/tmp/&lt;b&gt;x&quot;.mmdb\""));
  EXPECT_TRUE(contains(html, "(&lt;s&gt;) to berlin</title>"));
}

TEST(StatusJson, HoldsEachMirrorsCatchment) {
  json status = parse_json(render_status_json(model_with_catchments()));
  EXPECT_EQ(status.at("catchment_cell_degrees"), 2);
  const json& berlin = status.at("mirrors").at(0).at("catchment");
  EXPECT_EQ(berlin.at("answers"), 45);
  EXPECT_EQ(berlin.at("unlocated"), 2);
  EXPECT_EQ(berlin.at("estimated"), false);
  ASSERT_EQ(berlin.at("cells").size(), 2u);
  EXPECT_EQ(berlin.at("cells").at(0), (json{{"lat", 52}, {"lon", 14}, {"countries", {"DE"}}, {"answers", 40}}));
  EXPECT_EQ(status.at("mirrors").at(1).at("catchment").at("cells").at(0).at("answers"), 10);
  EXPECT_TRUE(status.at("mirrors").at(2).at("catchment").at("cells").empty());
}

TEST(StatusJson, HoldsAddressesFamiliesWeightAndHome) {
  StatusModel model = sample_model();
  model.mirrors[0].ipv4 = {"192.0.2.1"};
  model.mirrors[0].ipv6 = {"2001:db8::1"};
  model.mirrors[0].weight = 250;
  model.mirrors[0].home_networks = {"198.51.100.0/24"};
  model.mirrors[0].home_asns = {680};
  model.mirrors[1].ipv6 = {"2001:db8::9"};
  json status = parse_json(render_status_json(model));
  const json& berlin = status.at("mirrors").at(0);
  EXPECT_EQ(berlin.at("ipv4"), json({"192.0.2.1"}));
  EXPECT_EQ(berlin.at("ipv6"), json({"2001:db8::1"}));
  EXPECT_EQ(berlin.at("families"), json({"ipv4", "ipv6"}));
  EXPECT_EQ(berlin.at("weight"), 250);
  EXPECT_EQ(berlin.at("home_networks"), json({"198.51.100.0/24"}));
  EXPECT_EQ(berlin.at("home_asns"), json({680}));
  EXPECT_EQ(status.at("mirrors").at(1).at("families"), json({"ipv6"}));
  EXPECT_EQ(status.at("mirrors").at(1).at("weight"), 100);
}

TEST(StatusJson, HoldsTheQueryRateHistory) {
  StatusModel model = sample_model();
  model.query_rate = {{kNow - 10, 4.5}, {kNow, 7.25}};
  json status = parse_json(render_status_json(model));
  const json& rate = status.at("query_rate");
  EXPECT_EQ(rate.at("step_seconds"), 10);
  EXPECT_EQ(rate.at("current_per_second"), 7.25);
  ASSERT_EQ(rate.at("points").size(), 2u);
  EXPECT_EQ(rate.at("points").at(0), (json{{"unix", kNow - 10}, {"per_second", 4.5}}));
  EXPECT_TRUE(parse_json(render_status_json(sample_model())).at("query_rate").at("current_per_second").is_null());
}

TEST(StatusJson, HoldsTheDatabasesWithBuildDates) {
  StatusModel model = sample_model();
  model.databases = {{"/var/lib/geoip/dbip.mmdb", "city", "DBIP-City-Lite", 6, kNow - 42 * 86400}};
  json status = parse_json(render_status_json(model));
  ASSERT_EQ(status.at("databases").size(), 1u);
  EXPECT_EQ(status.at("databases").at(0),
            (json{{"path", "/var/lib/geoip/dbip.mmdb"},
                  {"kind", "city"},
                  {"type", "DBIP-City-Lite"},
                  {"ip_version", 6},
                  {"build_epoch", kNow - 42 * 86400},
                  {"build_date", "2025-11-20"},
                  {"age_seconds", 42 * 86400}}));
}

}  // namespace
}  // namespace geosteer::metrics

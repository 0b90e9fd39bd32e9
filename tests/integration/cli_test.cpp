// The command line: `check` and `locate`, on fixtures and on the real demo config.
#include <gtest/gtest.h>


#include "tests/integration/harness.h"
#include "tests/integration/test_config.h"

namespace geosteer::testing {
namespace {

std::string geosteer(const std::string& args) { return std::string(GEOSTEER_BINARY) + " " + args; }

TEST(Check, ValidConfigurationExitsZeroWithSummary) {
  auto path = write_temp_file("ok.yaml", expand(test_config(), 5353));
  auto result = run_command(geosteer("check -c " + path));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("OK (1 zones, 1 services, 8 mirrors)"), std::string::npos) << result.output;
}

TEST(Check, MisspeltKeyIsReportedWithFileLineColumnAndExitsOne) {
  std::string text = expand(test_config(), 5353);
  text.replace(text.find("        answers: 2"), 18, "        answer: 2");
  auto path = write_temp_file("bad.yaml", text);
  auto result = run_command(geosteer("check -c " + path));
  EXPECT_EQ(result.status, 1);
  std::string position = ":" + std::to_string(line_of(text, "answer: 2")) + ":9: error:";
  EXPECT_NE(result.output.find(path + position), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("answers"), std::string::npos) << result.output;
}

TEST(Check, UnreadableGeoipDatabaseIsReportedAtItsConfigPosition) {
  std::string text = expand(test_config(), 5353);
  text.replace(text.find("flat-ipv6.mmdb"), 14, "missing.mmdb");
  auto path = write_temp_file("nogeo.yaml", text);
  auto result = run_command(geosteer("check -c " + path));
  EXPECT_EQ(result.status, 1);
  std::string line = ":" + std::to_string(line_of(text, "missing.mmdb")) + ":";
  EXPECT_NE(result.output.find(path + line), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("missing.mmdb"), std::string::npos) << result.output;
}

TEST(Check, MirrorWithoutLocationIsPlacedByGeoip) {
  std::string text = expand(test_config(), 5353);
  // bordeaux's first address 192.0.2.10 is in Paris in the fixture.
  text.replace(text.find(", location: {lat: 44.84, lon: -0.58}"), 36, "");
  auto path = write_temp_file("geoplaced.yaml", text);
  auto result = run_command(geosteer("locate -c " + path + " 130.149.7.0/24"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("bordeaux"), std::string::npos) << result.output;
}

TEST(Check, MirrorWithoutLocationOrGeoipRecordIsRefused) {
  std::string text = expand(test_config(), 5353);
  text.replace(text.find(", location: {lat: 52.52, lon: 13.40}"), 36, "");  // 141.80.181.40: no record
  auto path = write_temp_file("unplaced.yaml", text);
  auto result = run_command(geosteer("check -c " + path));
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("mirror 'berlin' has no location"), std::string::npos) << result.output;
}

TEST(Check, AsnsWithoutAnAsnDatabaseAreReportedAtTheMirror) {
  std::string text = expand(test_config(), 5353);
  const std::string sydney = "location: {lat: -33.87, lon: 151.21}";
  text.replace(text.find(sydney), sydney.size(), sydney + ", asns: [64500]");
  auto path = write_temp_file("noasn.yaml", text);
  auto result = run_command(geosteer("check -c " + path));
  EXPECT_EQ(result.status, 1);
  std::string position = path + ":" + std::to_string(line_of(text, "asns: [64500]")) + ":5: error:";
  EXPECT_NE(result.output.find(position + " mirror sydney lists asns:, but no GeoIP database holds ASN data"),
            std::string::npos)
      << result.output;
}

TEST(Locate, NamesTheClientsAsWhenAnAsnDatabaseIsLoaded) {
  std::string text = expand(test_config(), 5353);
  const std::string databases = "\"" + fixture("flat-ipv6.mmdb") + "\"";
  text.replace(text.find(databases), databases.size(), databases + ", \"" + fixture("asn.mmdb") + "\"");
  auto path = write_temp_file("asn.yaml", text);
  auto result = run_command(geosteer("locate -c " + path + " 130.149.7.201"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("location DE EU 52.5200,13.4000 AS680 Verein zur Foerderung eines Deutschen "
                               "Forschungsnetzes e.V. network 130.149.0.0/16\n"),
            std::string::npos)
      << result.output;
}

TEST(Locate, PrintsLocationNetworkAndChosenMirrorsWithDistances) {
  auto path = write_temp_file("ok.yaml", expand(test_config(), 5353));
  auto result = run_command(geosteer("locate -c " + path + " 130.149.7.201"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("client 130.149.7.201 from resolver\n"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("location DE EU 52.5200,13.4000 network 130.149.0.0/16\n"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("  A: berlin 0km up, bordeaux "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("1. berlin 141.80.181.40\n"), std::string::npos) << result.output;
}

TEST(Locate, UnknownServiceIsAnError) {
  auto path = write_temp_file("ok.yaml", expand(test_config(), 5353));
  auto result = run_command(geosteer("locate -c " + path + " 130.149.7.201 --service nope"));
  EXPECT_EQ(result.status, 1);
}

TEST(Usage, UnknownCommandExitsTwo) {
  EXPECT_EQ(run_command(geosteer("frobnicate")).status, 2);
}

// --- the demo configuration on the real DB-IP Lite City data ---------------------

class DemoOnDbipData : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dbip_data_present()) << "run tools/fetch-geoip.sh first (the test command does)";
  }
};

TEST_F(DemoOnDbipData, ExampleConfigurationPassesCheckUnchanged) {
  auto result = run_command("cd " + source_path("") + " && " + geosteer("check -c deploy/examples/guix.yaml"));
  EXPECT_EQ(result.status, 0) << result.output;
}

TEST_F(DemoOnDbipData, FourCitiesAreSteeredToTheirMirrors) {
  std::string text = demo_config_on_dbip();
  GeosteerServer server(text);
  const std::string name = "substitutes.guix.example.org A +subnet=";
  auto first_answer = [&](const std::string& subnet) {
    std::string out = server.dig(name + subnet);
    std::vector<std::string> answers = dig_section(out, "ANSWER");
    return answers.empty() ? "no answer in:\n" + out + "\nserver log:\n" + server.log() : fields(answers[0]).back();
  };
  EXPECT_EQ(first_answer("130.149.7.0/24"), "141.80.181.40");  // Berlin
  EXPECT_EQ(first_answer("8.8.8.0/24"), "198.51.100.10");      // California
  EXPECT_EQ(first_answer("133.11.0.0/24"), "198.51.100.40");   // Tokyo
  EXPECT_EQ(first_answer("143.107.45.0/24"), "198.51.100.30"); // São Paulo
}

}  // namespace
}  // namespace geosteer::testing

#include "zones/zone.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/dname.h"

namespace geosteer::zones {
namespace {

std::string wire(const char* text) { return *dname::from_text(text); }

std::string yaml_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Zone example.org. with the given records (the first at line 9, column 9) and
// `zone_tail` appended as further keys of the zone.
std::string zone_yaml(const std::vector<std::string>& records, const std::string& zone_tail = "") {
  std::string yaml =
      "geoip: {databases: [city.mmdb]}\n"
      "mirrors:\n"
      "  - {id: berlin, url: \"https://berlin.example/\", ipv4: [192.0.2.1]}\n"
      "zones:\n"
      "  - origin: example.org.\n"
      "    soa: {mname: ns1, rname: hostmaster, serial: 7, minimum: 300}\n"
      "    ns: [ns1, ns2]\n"
      "    records:\n";
  for (const auto& r : records) yaml += "      - " + yaml_quoted(r) + "\n";
  if (records.empty()) yaml += "      []\n";
  return yaml + zone_tail;
}

ZoneSet compile(const std::vector<std::string>& records, const std::string& zone_tail = "") {
  return compile_zones(parse_config_text(zone_yaml(records, zone_tail), "test.yaml"));
}

std::vector<std::string> compile_errors(const std::vector<std::string>& records,
                                        const std::string& zone_tail = "") {
  Config config = parse_config_text(zone_yaml(records, zone_tail), "test.yaml");
  try {
    compile_zones(config);
  } catch (const ConfigErrors& e) {
    std::vector<std::string> out;
    for (const auto& error : e.errors()) out.push_back(error.str());
    return out;
  }
  return {};
}

const RRset* rrset_at(const ZoneSet& set, const char* name, uint16_t type) {
  const Node* node = set.zones().at(0).find_node(wire(name));
  return node ? node->find(type) : nullptr;
}

TEST(CompileRecords, AIsFourOctets) {
  auto set = compile({"www IN A 192.0.2.7"});
  const RRset* a = rrset_at(set, "www.example.org.", rrtype::A);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ttl, 3600u);
  EXPECT_EQ(a->rdata, std::vector<std::string>{std::string("\xc0\x00\x02\x07", 4)});
}

TEST(CompileRecords, AaaaIsSixteenOctets) {
  auto set = compile({"www 120 AAAA 2001:db8::1"});
  const RRset* aaaa = rrset_at(set, "www.example.org.", rrtype::AAAA);
  ASSERT_NE(aaaa, nullptr);
  EXPECT_EQ(aaaa->ttl, 120u);
  EXPECT_EQ(aaaa->rdata[0], "\x20\x01\x0d\xb8" + std::string(11, '\0') + "\x01");
}

TEST(CompileRecords, TxtKeepsLengthPrefixedStrings) {
  auto set = compile({"@ TXT \"hello world\" \"x\""});
  const RRset* txt = rrset_at(set, "example.org.", rrtype::TXT);
  ASSERT_NE(txt, nullptr);
  EXPECT_EQ(txt->rdata[0], std::string("\x0bhello world\x01x"));
}

TEST(CompileRecords, CnameTargetIsUncompressedWire) {
  auto set = compile({"www CNAME Mirror.Example.NET."});
  const RRset* cname = rrset_at(set, "www.example.org.", rrtype::CNAME);
  ASSERT_NE(cname, nullptr);
  EXPECT_EQ(cname->rdata[0], std::string("\x06Mirror\x07" "Example\x03NET", 19) + '\0');
}

TEST(CompileRecords, MxTargetIsRelativeToTheOrigin) {
  auto set = compile({"@ MX 10 mail"});
  const RRset* mx = rrset_at(set, "example.org.", rrtype::MX);
  ASSERT_NE(mx, nullptr);
  EXPECT_EQ(mx->rdata[0], std::string("\x00\x0a", 2) + wire("mail.example.org."));
}

TEST(CompileRecords, OwnersAreCanonicalLowerCase) {
  auto set = compile({"WWW.Example.ORG. A 192.0.2.7"});
  EXPECT_NE(rrset_at(set, "www.example.org.", rrtype::A), nullptr);
}

TEST(CompileRecords, IdenticalRecordsMerge) {
  auto set = compile({"www A 192.0.2.7", "www A 192.0.2.7", "www A 192.0.2.8"});
  EXPECT_EQ(rrset_at(set, "www.example.org.", rrtype::A)->rdata.size(), 2u);
}

TEST(CompileRecords, DifferingTtlsTakeTheSmallest) {
  auto set = compile({"www 600 A 192.0.2.7", "www 300 A 192.0.2.8"});
  EXPECT_EQ(rrset_at(set, "www.example.org.", rrtype::A)->ttl, 300u);
}

TEST(CompileRecords, ZoneTtlZeroIsTheDefault) {
  auto config = parse_config_text(zone_yaml({"www A 192.0.2.7"}, "    ttl: 0\n"), "test.yaml");
  auto set = compile_zones(config);
  EXPECT_EQ(rrset_at(set, "www.example.org.", rrtype::A)->ttl, 0u);
}

TEST(CompileApex, HasSoaAndNsFromTheConfiguration) {
  auto set = compile({});
  const Zone& zone = set.zones()[0];
  EXPECT_EQ(zone.origin(), wire("example.org."));
  const RRset& soa = zone.soa();
  ASSERT_EQ(soa.rdata.size(), 1u);
  std::string expected = wire("ns1.example.org.") + wire("hostmaster.example.org.") +
                         std::string("\0\0\0\x07" "\0\0\x0e\x10" "\0\0\x02\x58" "\0\x12\x75\x00"
                                     "\0\0\x01\x2c", 20);
  EXPECT_EQ(soa.rdata[0], expected);
  EXPECT_EQ(soa.ttl, 3600u);
  const RRset* ns = zone.apex().find(rrtype::NS);
  ASSERT_NE(ns, nullptr);
  EXPECT_EQ(ns->rdata, (std::vector<std::string>{wire("ns1.example.org."), wire("ns2.example.org.")}));
}

TEST(CompileApex, NegativeTtlIsTheSmallerOfSoaTtlAndMinimum) {
  EXPECT_EQ(compile({}).zones()[0].negative_ttl(), 300u);
  auto config = parse_config_text(zone_yaml({}, "    ttl: 60\n"), "test.yaml");
  EXPECT_EQ(compile_zones(config).zones()[0].negative_ttl(), 60u);
}

TEST(CompileErrors, RecordSyntaxErrorAtItsPosition) {
  EXPECT_EQ(compile_errors({"www A 192.0.2.7", "bad A 192.0.2"}),
            std::vector<std::string>{"test.yaml:10:9: error: invalid record \"bad A 192.0.2\": "
                                     "Syntax error, could not parse the RR's rdata"});
}

TEST(CompileErrors, RecordOutsideTheZone) {
  EXPECT_EQ(compile_errors({"www.example.net. A 192.0.2.7"}),
            std::vector<std::string>{
                "test.yaml:9:9: error: record 'www.example.net.' A is outside zone "
                "'example.org.' (records outside their zone are never served; write the owner "
                "relative to the origin)"});
}

TEST(CompileErrors, ClassOtherThanIn) {
  EXPECT_EQ(compile_errors({"www CH A 192.0.2.7"}),
            std::vector<std::string>{"test.yaml:9:9: error: record 'www.example.org.' A has "
                                     "class CH (only class IN is served)"});
}

TEST(CompileErrors, SoaInRecords) {
  EXPECT_EQ(compile_errors({"@ SOA ns1 hm 1 2 3 4 5"}),
            std::vector<std::string>{"test.yaml:9:9: error: SOA record 'example.org.' is not "
                                     "allowed here (the zone's SOA comes from soa:)"});
}

TEST(CompileErrors, NsAtTheApexInRecords) {
  EXPECT_EQ(compile_errors({"@ NS ns3"}),
            std::vector<std::string>{"test.yaml:9:9: error: NS record at the zone apex "
                                     "'example.org.' is not allowed here (list the zone's name "
                                     "servers under ns:)"});
}

TEST(CompileErrors, DnameIsRefusedRatherThanIgnored) {
  EXPECT_EQ(compile_errors({"old DNAME new.example.net."}),
            std::vector<std::string>{
                "test.yaml:9:9: error: DNAME record 'old.example.org.' is not supported "
                "(geosteer does not synthesize DNAME redirections (RFC 6672); use a CNAME for "
                "each name instead)"});
}

TEST(CompileErrors, CnameWithOtherData) {
  auto errors = compile_errors({"www TXT hello", "www CNAME elsewhere.net."});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.yaml:10:9: error: CNAME at 'www.example.org.' shares its name with a TXT "
            "record at test.yaml:9:9 (a name with a CNAME can have no other data)");
}

TEST(CompileErrors, CnameAtTheApex) {
  auto errors = compile_errors({"@ CNAME elsewhere.net."});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].substr(0, 61),
            "test.yaml:9:9: error: CNAME at the zone apex 'example.org.' (");
}

TEST(CompileErrors, TwoDifferentCnames) {
  auto errors = compile_errors({"www CNAME a.net.", "www CNAME b.net."});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "test.yaml:10:9: error: second CNAME at 'www.example.org.' (a name can "
                       "have one CNAME only; the first is at test.yaml:9:9)");
}

TEST(CompileErrors, RecordAtAServiceName) {
  auto errors = compile_errors({"mirror A 192.0.2.9", "mirror TXT ok"},
                               "    services: [{name: mirror, mirrors: [berlin]}]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.yaml:9:9: error: record 'mirror.example.org.' A clashes with the service of "
            "that name (the service answers A and AAAA for 'mirror.example.org.' itself; remove "
            "the record or rename the service)");
}

TEST(CompileErrors, RecordAtTheExplainNameOfAService) {
  auto errors = compile_errors({"_geosteer.mirror TXT mine", "x._geosteer.mirror TXT below"},
                               "    services: [{name: mirror, mirrors: [berlin]}]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.yaml:9:9: error: record '_geosteer.mirror.example.org.' TXT clashes with the "
            "explanation of service 'mirror.example.org.' (geosteer answers TXT at "
            "'_geosteer.mirror.example.org.' itself, with how it steers the client asking; "
            "remove the record)");
}

TEST(CompileErrors, ServiceAtTheExplainNameOfAnother) {
  auto errors = compile_errors(
      {}, "    services: [{name: mirror, mirrors: [berlin]}, {name: _geosteer.mirror, "
          "mirrors: [berlin]}]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("error: service '_geosteer.mirror.example.org.' clashes with the "
                           "explanation of service 'mirror.example.org.'"),
            std::string::npos)
      << errors[0];
}

TEST(CompileErrors, ServiceNameTooLongForItsExplainName) {
  // 4 labels of 60 octets: a valid 255-octet-limited name, but not with _geosteer. before it.
  std::string label(60, 'l');
  std::string name = label + "." + label + "." + label + "." + label.substr(0, 50);
  auto errors = compile_errors({}, "    services: [{name: " + name + ", mirrors: [berlin]}]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("error: service name '" + name + ".example.org.' is too long"),
            std::string::npos)
      << errors[0];
}

TEST(CompileErrors, DataBelowADelegation) {
  auto errors = compile_errors({"sub NS ns.sub", "ns.sub A 192.0.2.53", "www.sub TXT hidden"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "test.yaml:11:9: error: record 'www.sub.example.org.' TXT lies below the "
                       "delegation at 'sub.example.org.' (only A and AAAA glue may appear below "
                       "a zone cut)");
}

TEST(CompileErrors, AllErrorsOfAZoneAreReported) {
  EXPECT_EQ(compile_errors({"a.example.net. A 192.0.2.1", "b A 1", "c CH TXT x"}).size(), 3u);
}

class ZoneFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/geosteer-zone-XXXXXX";
    int fd = mkstemp(pattern);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = pattern;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& content) { std::ofstream(path_) << content; }
  std::string zonefile_key() { return "    zonefile: " + path_ + "\n"; }

  std::string path_;
};

TEST_F(ZoneFileTest, RecordsAreLoaded) {
  write("$TTL 120\n; static data\nftp IN A 192.0.2.21\nftp IN TXT \"files\"\n");
  auto set = compile({"www A 192.0.2.7"}, zonefile_key());
  const RRset* a = rrset_at(set, "ftp.example.org.", rrtype::A);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ttl, 120u);
  EXPECT_NE(rrset_at(set, "ftp.example.org.", rrtype::TXT), nullptr);
  EXPECT_NE(rrset_at(set, "www.example.org.", rrtype::A), nullptr);
}

TEST_F(ZoneFileTest, BadLineIsReportedWithFileAndLine) {
  write("a IN A 192.0.2.1\n\nb IN A 192.0.2\nc IN A 192.0.2.3");
  EXPECT_EQ(compile_errors({}, zonefile_key()),
            std::vector<std::string>{path_ + ":3: error: invalid record: Syntax error, could "
                                             "not parse the RR's rdata"});
}

TEST_F(ZoneFileTest, LaterChecksNameTheLine) {
  write("a IN A 192.0.2.1\nb.example.net. IN A 192.0.2.2\n");
  auto errors = compile_errors({}, zonefile_key());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].substr(0, path_.size() + 3), path_ + ":2:");
}

TEST_F(ZoneFileTest, DnameInTheFileIsRefused) {
  write("a IN A 192.0.2.1\nold IN DNAME new.example.net.\n");
  auto errors = compile_errors({}, zonefile_key());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind(path_ + ":2: error: DNAME record 'old.example.org.' is not supported", 0),
            0u)
      << errors[0];
}

TEST_F(ZoneFileTest, SoaInTheFileIsRejected) {
  write("@ IN SOA ns1 hostmaster 1 2 3 4 5\n");
  auto errors = compile_errors({}, zonefile_key());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], path_ + ":1: error: SOA record 'example.org.' is not allowed here (the "
                               "zone's SOA comes from soa:)");
}

TEST(ZoneFile, UnreadableFileIsReportedAtTheKey) {
  auto errors = compile_errors({}, "    zonefile: /nonexistent/example.zone\n");
  EXPECT_EQ(errors, std::vector<std::string>{
                        "test.yaml:10:5: error: cannot read zone file '/nonexistent/example.zone': "
                        "No such file or directory (relative paths are relative to the working "
                        "directory)"});
}

// --- lookup -----------------------------------------------------------------------

class LookupTest : public ::testing::Test {
 protected:
  LookupTest()
      : set_(compile({"www A 192.0.2.7", "a.b.c TXT deep", "sub NS ns.sub", "ns.sub A 192.0.2.53",
                      "*.wild TXT any", "here.wild TXT exact", "x.y.wild TXT deeper",
                      "z.*.f TXT below-a-wildcard"},
                     "    services: [{name: mirror, mirrors: [berlin]}]\n")),
        zone_(set_.zones()[0]) {}

  Lookup lookup(const char* name) const { return zone_.lookup(wire(name)); }

  ZoneSet set_;
  const Zone& zone_;
};

TEST_F(LookupTest, ExistingNameIsFound) {
  Lookup l = lookup("www.example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::Found);
  ASSERT_NE(l.node, nullptr);
  EXPECT_EQ(l.node->owner, wire("www.example.org."));
  EXPECT_FALSE(l.wildcard);
}

TEST_F(LookupTest, ApexIsFound) {
  Lookup l = lookup("example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::Found);
  EXPECT_EQ(l.node, &zone_.apex());
}

TEST_F(LookupTest, AncestorsOfANameAreEmptyNonTerminals) {
  EXPECT_EQ(lookup("b.c.example.org.").kind, Lookup::Kind::EmptyNonTerminal);
  EXPECT_EQ(lookup("c.example.org.").kind, Lookup::Kind::EmptyNonTerminal);
}

TEST_F(LookupTest, MissingNameIsNxDomain) {
  Lookup l = lookup("nope.example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::NxDomain);
  EXPECT_EQ(l.node, nullptr);
  EXPECT_EQ(lookup("x.www.example.org.").kind, Lookup::Kind::NxDomain);
}

TEST_F(LookupTest, NamesAtAndBelowAZoneCutAreDelegations) {
  for (const char* name : {"sub.example.org.", "ns.sub.example.org.", "a.b.sub.example.org."}) {
    Lookup l = lookup(name);
    EXPECT_EQ(l.kind, Lookup::Kind::Delegation) << name;
    ASSERT_NE(l.node, nullptr);
    EXPECT_EQ(l.node->owner, wire("sub.example.org."));
  }
}

TEST_F(LookupTest, GlueIsFoundByExactNodeLookup) {
  const Node* glue = zone_.find_node(wire("ns.sub.example.org."));
  ASSERT_NE(glue, nullptr);
  EXPECT_NE(glue->find(rrtype::A), nullptr);
  EXPECT_EQ(zone_.find_node(wire("nope.example.org.")), nullptr);
}

TEST_F(LookupTest, WildcardMatchesMissingNames) {
  for (const char* name : {"anything.wild.example.org.", "a.b.wild.example.org."}) {
    Lookup l = lookup(name);
    EXPECT_EQ(l.kind, Lookup::Kind::Found) << name;
    EXPECT_TRUE(l.wildcard) << name;
    ASSERT_NE(l.node, nullptr);
    EXPECT_EQ(l.node->owner, wire("*.wild.example.org."));
  }
}

TEST_F(LookupTest, ExistingNameIsNotWildcardMatched) {
  Lookup l = lookup("here.wild.example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::Found);
  EXPECT_FALSE(l.wildcard);
  EXPECT_EQ(l.node->owner, wire("here.wild.example.org."));
}

TEST_F(LookupTest, WildcardDoesNotApplyBelowAnExistingEncloser) {
  // y.wild exists (as an empty non-terminal), so it is the closest encloser of
  // q.y.wild and *.y.wild does not exist (RFC 4592 section 2.2.1).
  EXPECT_EQ(lookup("y.wild.example.org.").kind, Lookup::Kind::EmptyNonTerminal);
  EXPECT_EQ(lookup("q.y.wild.example.org.").kind, Lookup::Kind::NxDomain);
}

TEST_F(LookupTest, WildcardWithOnlyNamesBelowItGivesNoData) {
  // *.f exists only as the parent of z.*.f: it matches, but has no data.
  Lookup l = lookup("q.f.example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::EmptyNonTerminal);
  EXPECT_TRUE(l.wildcard);
  EXPECT_EQ(lookup("z.*.f.example.org.").kind, Lookup::Kind::Found);
}

TEST_F(LookupTest, ServiceNameIsANodeWithItsIndex) {
  Lookup l = lookup("mirror.example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::Found);
  EXPECT_EQ(l.node->service, 0);
  EXPECT_EQ(lookup("www.example.org.").node->service, -1);
}

TEST_F(LookupTest, ExplainNameOfAServiceIsANodeThatExplainsIt) {
  Lookup l = lookup("_geosteer.mirror.example.org.");
  EXPECT_EQ(l.kind, Lookup::Kind::Found);
  ASSERT_NE(l.node, nullptr);
  EXPECT_EQ(l.node->explains, 0);
  EXPECT_EQ(l.node->service, -1);
  EXPECT_TRUE(l.node->rrsets.empty());
  EXPECT_EQ(lookup("mirror.example.org.").node->explains, -1);
  EXPECT_EQ(lookup("www.example.org.").node->explains, -1);
  EXPECT_EQ(lookup("_geosteer.www.example.org.").kind, Lookup::Kind::NxDomain);
}

TEST(ServiceOrder, GoesZoneByZoneThenServiceByService) {
  Config config = parse_config_text(
      "geoip: {databases: [city.mmdb]}\n"
      "mirrors: [{id: m, url: \"https://m/\", ipv4: [192.0.2.1]}]\n"
      "zones:\n"
      "  - {origin: a.test., soa: {mname: ns, rname: hm}, ns: [ns],\n"
      "     services: [{name: s1, mirrors: [m]}, {name: s2, mirrors: [m]}]}\n"
      "  - {origin: b.test., soa: {mname: ns, rname: hm}, ns: [ns],\n"
      "     services: [{name: s3, mirrors: [m]}]}\n",
      "test.yaml");
  auto order = service_order(config);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0]->fqdn, "s1.a.test.");
  EXPECT_EQ(order[2]->fqdn, "s3.b.test.");
  auto set = compile_zones(config);
  EXPECT_EQ(set.zones()[1].find_node(wire("s3.b.test."))->service, 2);
  EXPECT_EQ(set.zones()[0].find_node(wire("s2.a.test."))->service, 1);
  EXPECT_EQ(set.zones()[1].find_node(wire("_geosteer.s3.b.test."))->explains, 2);
  EXPECT_EQ(set.zones()[0].find_node(wire("_geosteer.s2.a.test."))->explains, 1);
}

TEST(ExplainName, PutsTheGeosteerLabelBeforeTheServiceName) {
  EXPECT_EQ(explain_name(wire("s.example.org.")), wire("_geosteer.s.example.org."));
}

TEST(ExplainName, IsEmptyWhenItWouldBeLongerThanANameMayBe) {
  std::string label(63, 'l');
  std::string longest = wire((label + "." + label + "." + label + "." + label.substr(0, 61) + ".").c_str());
  ASSERT_EQ(longest.size(), 255u);
  EXPECT_EQ(explain_name(longest), "");
  std::string fits = wire((label + "." + label + "." + label + "." + label.substr(0, 51) + ".").c_str());
  ASSERT_EQ(fits.size(), 245u);
  EXPECT_EQ(explain_name(fits).size(), 255u);
}

TEST(ZoneSetFind, PicksTheLongestOrigin) {
  Config config = parse_config_text(
      "geoip: {databases: [city.mmdb]}\n"
      "mirrors: []\n"
      "zones:\n"
      "  - {origin: example.org., soa: {mname: ns, rname: hm}, ns: [ns]}\n"
      "  - {origin: sub.example.org., soa: {mname: ns, rname: hm}, ns: [ns]}\n",
      "test.yaml");
  auto set = compile_zones(config);
  const Zone* outer = set.find(wire("www.example.org."));
  const Zone* inner = set.find(wire("a.b.sub.example.org."));
  ASSERT_NE(outer, nullptr);
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(outer->origin(), wire("example.org."));
  EXPECT_EQ(inner->origin(), wire("sub.example.org."));
  EXPECT_EQ(set.find(wire("sub.example.org.")), inner);
  EXPECT_EQ(set.find(wire("example.org.")), outer);
  EXPECT_EQ(set.find(wire("example.com.")), nullptr);
  EXPECT_EQ(set.find(wire("org.")), nullptr);
}

TEST(ZoneBuilderDirect, BuildsAZoneWithoutAConfiguration) {
  ZoneBuilder builder(wire("test."));
  EXPECT_TRUE(builder.add(wire("a.b.test."), rrtype::TXT, 60, "\x02hi"));
  EXPECT_FALSE(builder.add(wire("a.b.test."), rrtype::TXT, 30, "\x02ho"));
  builder.add_service(wire("s.test."), 4);
  Zone zone = builder.finish();
  EXPECT_EQ(zone.lookup(wire("b.test.")).kind, Lookup::Kind::EmptyNonTerminal);
  const Node* node = zone.find_node(wire("a.b.test."));
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->find(rrtype::TXT)->ttl, 30u);
  EXPECT_EQ(node->find(rrtype::TXT)->rdata.size(), 2u);
  EXPECT_EQ(zone.find_node(wire("s.test."))->service, 4);
  EXPECT_EQ(zone.find_node(wire("_geosteer.s.test."))->explains, 4);
  std::vector<Zone> zones;
  zones.push_back(std::move(zone));
  ZoneSet set = ZoneBuilder::make_set(std::move(zones));
  EXPECT_NE(set.find(wire("x.test.")), nullptr);
}

TEST(ExampleZones, CompileWithTheServiceAndStaticRecords) {
  auto set = compile_zones(parse_config(GEOSTEER_SOURCE_DIR "/deploy/examples/guix.yaml"));
  const Zone* zone = set.find(wire("substitutes.guix.example.org."));
  ASSERT_NE(zone, nullptr);
  Lookup service = zone->lookup(wire("substitutes.guix.example.org."));
  EXPECT_EQ(service.kind, Lookup::Kind::Found);
  EXPECT_EQ(service.node->service, 0);
  EXPECT_EQ(zone->lookup(wire("_geosteer.substitutes.guix.example.org.")).node->explains, 0);
  EXPECT_NE(zone->find_node(wire("www.guix.example.org."))->find(rrtype::CNAME), nullptr);
  EXPECT_EQ(zone->find_node(wire("www.guix.example.org."))->find(rrtype::CNAME)->ttl, 300u);
  EXPECT_NE(zone->apex().find(rrtype::TXT), nullptr);
  EXPECT_EQ(zone->negative_ttl(), 300u);
}

}  // namespace
}  // namespace geosteer::zones

// ISO 3166-1 alpha-2 country codes and the continent each belongs to, for flat
// (DB-IP) records that carry a country but no continent, and for validating the
// country and continent overrides of the configuration.
//
// The continent assignment is the one of GeoNames (countryInfo.txt): RU and CY are
// EU; TR, the Caucasus and the Middle East are AS; EG is AF; Central America and the
// Caribbean are NA; Timor-Leste is OC; the Antarctic territories are AN. XK (Kosovo)
// is not in ISO 3166-1, but both DB-IP and MaxMind use it.
#include <algorithm>
#include <cstring>
#include <iterator>

#include "common/countries.h"

namespace geosteer {
namespace {

struct CountryContinent {
  char country[3];
  char continent[3];
};

// Sorted by country code: looked up by binary search.
constexpr CountryContinent kCountries[] = {
    {"AD", "EU"}, {"AE", "AS"}, {"AF", "AS"}, {"AG", "NA"}, {"AI", "NA"}, {"AL", "EU"},
    {"AM", "AS"}, {"AO", "AF"}, {"AQ", "AN"}, {"AR", "SA"}, {"AS", "OC"}, {"AT", "EU"},
    {"AU", "OC"}, {"AW", "NA"}, {"AX", "EU"}, {"AZ", "AS"}, {"BA", "EU"}, {"BB", "NA"},
    {"BD", "AS"}, {"BE", "EU"}, {"BF", "AF"}, {"BG", "EU"}, {"BH", "AS"}, {"BI", "AF"},
    {"BJ", "AF"}, {"BL", "NA"}, {"BM", "NA"}, {"BN", "AS"}, {"BO", "SA"}, {"BQ", "NA"},
    {"BR", "SA"}, {"BS", "NA"}, {"BT", "AS"}, {"BV", "AN"}, {"BW", "AF"}, {"BY", "EU"},
    {"BZ", "NA"}, {"CA", "NA"}, {"CC", "AS"}, {"CD", "AF"}, {"CF", "AF"}, {"CG", "AF"},
    {"CH", "EU"}, {"CI", "AF"}, {"CK", "OC"}, {"CL", "SA"}, {"CM", "AF"}, {"CN", "AS"},
    {"CO", "SA"}, {"CR", "NA"}, {"CU", "NA"}, {"CV", "AF"}, {"CW", "NA"}, {"CX", "OC"},
    {"CY", "EU"}, {"CZ", "EU"}, {"DE", "EU"}, {"DJ", "AF"}, {"DK", "EU"}, {"DM", "NA"},
    {"DO", "NA"}, {"DZ", "AF"}, {"EC", "SA"}, {"EE", "EU"}, {"EG", "AF"}, {"EH", "AF"},
    {"ER", "AF"}, {"ES", "EU"}, {"ET", "AF"}, {"FI", "EU"}, {"FJ", "OC"}, {"FK", "SA"},
    {"FM", "OC"}, {"FO", "EU"}, {"FR", "EU"}, {"GA", "AF"}, {"GB", "EU"}, {"GD", "NA"},
    {"GE", "AS"}, {"GF", "SA"}, {"GG", "EU"}, {"GH", "AF"}, {"GI", "EU"}, {"GL", "NA"},
    {"GM", "AF"}, {"GN", "AF"}, {"GP", "NA"}, {"GQ", "AF"}, {"GR", "EU"}, {"GS", "AN"},
    {"GT", "NA"}, {"GU", "OC"}, {"GW", "AF"}, {"GY", "SA"}, {"HK", "AS"}, {"HM", "AN"},
    {"HN", "NA"}, {"HR", "EU"}, {"HT", "NA"}, {"HU", "EU"}, {"ID", "AS"}, {"IE", "EU"},
    {"IL", "AS"}, {"IM", "EU"}, {"IN", "AS"}, {"IO", "AS"}, {"IQ", "AS"}, {"IR", "AS"},
    {"IS", "EU"}, {"IT", "EU"}, {"JE", "EU"}, {"JM", "NA"}, {"JO", "AS"}, {"JP", "AS"},
    {"KE", "AF"}, {"KG", "AS"}, {"KH", "AS"}, {"KI", "OC"}, {"KM", "AF"}, {"KN", "NA"},
    {"KP", "AS"}, {"KR", "AS"}, {"KW", "AS"}, {"KY", "NA"}, {"KZ", "AS"}, {"LA", "AS"},
    {"LB", "AS"}, {"LC", "NA"}, {"LI", "EU"}, {"LK", "AS"}, {"LR", "AF"}, {"LS", "AF"},
    {"LT", "EU"}, {"LU", "EU"}, {"LV", "EU"}, {"LY", "AF"}, {"MA", "AF"}, {"MC", "EU"},
    {"MD", "EU"}, {"ME", "EU"}, {"MF", "NA"}, {"MG", "AF"}, {"MH", "OC"}, {"MK", "EU"},
    {"ML", "AF"}, {"MM", "AS"}, {"MN", "AS"}, {"MO", "AS"}, {"MP", "OC"}, {"MQ", "NA"},
    {"MR", "AF"}, {"MS", "NA"}, {"MT", "EU"}, {"MU", "AF"}, {"MV", "AS"}, {"MW", "AF"},
    {"MX", "NA"}, {"MY", "AS"}, {"MZ", "AF"}, {"NA", "AF"}, {"NC", "OC"}, {"NE", "AF"},
    {"NF", "OC"}, {"NG", "AF"}, {"NI", "NA"}, {"NL", "EU"}, {"NO", "EU"}, {"NP", "AS"},
    {"NR", "OC"}, {"NU", "OC"}, {"NZ", "OC"}, {"OM", "AS"}, {"PA", "NA"}, {"PE", "SA"},
    {"PF", "OC"}, {"PG", "OC"}, {"PH", "AS"}, {"PK", "AS"}, {"PL", "EU"}, {"PM", "NA"},
    {"PN", "OC"}, {"PR", "NA"}, {"PS", "AS"}, {"PT", "EU"}, {"PW", "OC"}, {"PY", "SA"},
    {"QA", "AS"}, {"RE", "AF"}, {"RO", "EU"}, {"RS", "EU"}, {"RU", "EU"}, {"RW", "AF"},
    {"SA", "AS"}, {"SB", "OC"}, {"SC", "AF"}, {"SD", "AF"}, {"SE", "EU"}, {"SG", "AS"},
    {"SH", "AF"}, {"SI", "EU"}, {"SJ", "EU"}, {"SK", "EU"}, {"SL", "AF"}, {"SM", "EU"},
    {"SN", "AF"}, {"SO", "AF"}, {"SR", "SA"}, {"SS", "AF"}, {"ST", "AF"}, {"SV", "NA"},
    {"SX", "NA"}, {"SY", "AS"}, {"SZ", "AF"}, {"TC", "NA"}, {"TD", "AF"}, {"TF", "AN"},
    {"TG", "AF"}, {"TH", "AS"}, {"TJ", "AS"}, {"TK", "OC"}, {"TL", "OC"}, {"TM", "AS"},
    {"TN", "AF"}, {"TO", "OC"}, {"TR", "AS"}, {"TT", "NA"}, {"TV", "OC"}, {"TW", "AS"},
    {"TZ", "AF"}, {"UA", "EU"}, {"UG", "AF"}, {"UM", "OC"}, {"US", "NA"}, {"UY", "SA"},
    {"UZ", "AS"}, {"VA", "EU"}, {"VC", "NA"}, {"VE", "SA"}, {"VG", "NA"}, {"VI", "NA"},
    {"VN", "AS"}, {"VU", "OC"}, {"WF", "OC"}, {"WS", "OC"}, {"XK", "EU"}, {"YE", "AS"},
    {"YT", "AF"}, {"ZA", "AF"}, {"ZM", "AF"}, {"ZW", "AF"},
};

constexpr const char* kContinents[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};

constexpr bool is_sorted_by_country() {
  for (size_t i = 1; i < std::size(kCountries); ++i) {
    const auto& a = kCountries[i - 1].country;
    const auto& b = kCountries[i].country;
    if (a[0] > b[0] || (a[0] == b[0] && a[1] >= b[1])) return false;
  }
  return true;
}
static_assert(is_sorted_by_country(), "kCountries must stay sorted for binary search");

const CountryContinent* find_country(const char* code) {
  if (code == nullptr || code[0] == '\0' || code[1] == '\0' || code[2] != '\0') return nullptr;
  auto less = [](const CountryContinent& entry, const char* key) {
    return std::strcmp(entry.country, key) < 0;
  };
  const auto* end = std::end(kCountries);
  const auto* it = std::lower_bound(std::begin(kCountries), end, code, less);
  return it != end && std::strcmp(it->country, code) == 0 ? it : nullptr;
}

}  // namespace

const char* continent_of_country(const char* country) {
  const CountryContinent* entry = find_country(country);
  return entry != nullptr ? entry->continent : "";
}

bool is_known_country(const char* country) { return find_country(country) != nullptr; }

bool is_known_continent(const char* continent) {
  if (continent == nullptr) return false;
  return std::any_of(std::begin(kContinents), std::end(kContinents),
                     [continent](const char* c) { return std::strcmp(c, continent) == 0; });
}

}  // namespace geosteer

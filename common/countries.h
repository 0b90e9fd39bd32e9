// ISO 3166-1 alpha-2 country codes and their continents: GeoIP fills in the
// continent of records that carry only a country, and the configuration checks
// its country and continent overrides against the same table.
#pragma once

namespace geosteer {

// Continent code (AF AN AS EU NA OC SA) of a country code, "" when unknown.
const char* continent_of_country(const char* country);
bool is_known_country(const char* country);
bool is_known_continent(const char* continent);

}  // namespace geosteer

// The hand-written coastlines: well-formed rings, with cities on the right land and
// open ocean on none, so that a typo in a coordinate shows up here and not as a
// spike across the status page.
#include "metrics/world_map.h"

#include <gtest/gtest.h>

#include <string>

namespace geosteer::metrics {
namespace {

// Ray casting: whether (lat, lon) lies inside the ring.
bool inside(const Outline& outline, double lat, double lon) {
  bool in = false;
  auto points = outline.points;
  for (size_t i = 0, j = points.size() - 1; i < points.size(); j = i++) {
    const GeoPoint& a = points[i];
    const GeoPoint& b = points[j];
    if ((a.lat > lat) != (b.lat > lat) &&
        lon < (b.lon - a.lon) * (lat - a.lat) / (b.lat - a.lat) + a.lon) {
      in = !in;
    }
  }
  return in;
}

const Outline* find(std::string_view name) {
  for (const Outline& outline : land_outlines()) {
    if (outline.name == name) return &outline;
  }
  return nullptr;
}

std::string land_at(double lat, double lon) {
  std::string found;
  for (const Outline& outline : land_outlines()) {
    if (inside(outline, lat, lon)) found += std::string(found.empty() ? "" : ", ") += outline.name;
  }
  return found;
}

double cross(const GeoPoint& o, const GeoPoint& a, const GeoPoint& b) {
  return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

bool segments_cross(const GeoPoint& a, const GeoPoint& b, const GeoPoint& c, const GeoPoint& d) {
  double d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

TEST(WorldMap, EveryPointIsOnTheGlobe) {
  for (const auto& group : {land_outlines(), inland_seas()}) {
    for (const Outline& outline : group) {
      EXPECT_GE(outline.points.size(), 3u) << outline.name;
      for (const GeoPoint& p : outline.points) {
        EXPECT_TRUE(p.lat >= -90 && p.lat <= 90 && p.lon >= -180 && p.lon <= 180)
            << outline.name << " (" << p.lat << ", " << p.lon << ")";
      }
    }
  }
}

TEST(WorldMap, NoOutlineCrossesItself) {
  for (const auto& group : {land_outlines(), inland_seas()}) {
    for (const Outline& outline : group) {
      auto p = outline.points;
      size_t n = p.size();
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = i + 2; j < n; ++j) {
          if (i == 0 && j == n - 1) continue;  // neighbours through the closing edge
          EXPECT_FALSE(segments_cross(p[i], p[(i + 1) % n], p[j], p[(j + 1) % n]))
              << outline.name << ": edge " << i << " crosses edge " << j;
        }
      }
    }
  }
}

TEST(WorldMap, CitiesLieOnTheirLandmass) {
  struct City {
    const char* name;
    double lat, lon;
    const char* land;
  };
  for (const City& city : {
           City{"Chicago", 41.9, -87.6, "North America"},
           City{"Denver", 39.7, -105.0, "North America"},
           City{"Mexico City", 19.4, -99.1, "North America"},
           City{"Anchorage", 61.2, -149.9, "North America"},
           City{"Brasília", -15.8, -47.9, "South America"},
           City{"Buenos Aires", -34.6, -58.6, "South America"},
           City{"Lima", -12.05, -77.0, "South America"},
           City{"Paris", 48.9, 2.35, "Eurasia"},
           City{"Berlin", 52.5, 13.4, "Eurasia"},
           City{"Madrid", 40.4, -3.7, "Eurasia"},
           City{"Rome", 41.9, 12.5, "Eurasia"},
           City{"Moscow", 55.75, 37.6, "Eurasia"},
           City{"Delhi", 28.6, 77.2, "Eurasia"},
           City{"Beijing", 39.9, 116.4, "Eurasia"},
           City{"Riyadh", 24.7, 46.7, "Eurasia"},
           City{"Kuala Lumpur", 3.15, 101.7, "Eurasia"},
           City{"Cairo", 30.0, 31.2, "Africa"},
           City{"Lagos", 6.6, 3.5, "Africa"},
           City{"Nairobi", -1.3, 36.8, "Africa"},
           City{"Johannesburg", -26.2, 28.0, "Africa"},
           City{"Sydney", -33.87, 151.0, "Australia"},
           City{"Alice Springs", -23.7, 133.9, "Australia"},
           City{"Perth", -31.95, 116.0, "Australia"},
           City{"London", 51.5, -0.1, "Great Britain"},
           City{"Dublin", 53.35, -6.3, "Ireland"},
           City{"Tokyo", 35.7, 139.7, "Honshu"},
           City{"Antananarivo", -18.9, 47.5, "Madagascar"},
           City{"Auckland", -36.85, 174.75, "New Zealand North Island"},
           City{"Christchurch", -43.5, 172.6, "New Zealand South Island"},
           City{"Nuuk", 64.2, -51.0, "Greenland"},
           City{"Reykjavik", 64.1, -21.9, "Iceland"},
       }) {
    const Outline* land = find(city.land);
    ASSERT_NE(land, nullptr) << city.land;
    EXPECT_TRUE(inside(*land, city.lat, city.lon)) << city.name << " not in " << city.land;
  }
}

TEST(WorldMap, OpenOceanIsNotLand) {
  struct Sea {
    const char* name;
    double lat, lon;
  };
  for (const Sea& sea : {
           Sea{"North Atlantic", 35, -40},
           Sea{"South Atlantic", -25, -15},
           Sea{"Pacific", 0, -140},
           Sea{"North Pacific", 40, 170},
           Sea{"Indian Ocean", -20, 80},
           Sea{"Mediterranean", 35, 18},
           Sea{"Gulf of Mexico", 25, -90},
           Sea{"Hudson Bay", 60, -85},
           Sea{"Red Sea", 20, 38.5},
           Sea{"Bay of Bengal", 15, 88},
           Sea{"Baltic Sea", 57.5, 19.5},
           Sea{"North Sea", 56, 3},
       }) {
    EXPECT_EQ(land_at(sea.lat, sea.lon), "") << sea.name;
  }
}

TEST(WorldMap, InlandSeasLieInsideEurasia) {
  const Outline* eurasia = find("Eurasia");
  ASSERT_NE(eurasia, nullptr);
  for (const Outline& sea : inland_seas()) {
    for (const GeoPoint& p : sea.points) {
      EXPECT_TRUE(inside(*eurasia, p.lat, p.lon)) << sea.name << " (" << p.lat << ", " << p.lon << ")";
    }
  }
}

}  // namespace
}  // namespace geosteer::metrics

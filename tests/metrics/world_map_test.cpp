// The coastlines generated from Natural Earth by tools/gen-world-map.py: closed rings on
// the map, none drawn across it at ±180, land where the continents are and water where
// the oceans and the Caspian are, so that a bad regeneration shows up here and not as a
// spike or a missing continent on the status page.
#include "metrics/world_map.h"

#include <gtest/gtest.h>

#include <cmath>
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

bool inside_any(std::span<const Outline> outlines, double lat, double lon) {
  for (const Outline& outline : outlines) {
    if (inside(outline, lat, lon)) return true;
  }
  return false;
}

// Inside a land ring and not in one of its holes.
bool on_land(double lat, double lon) {
  return inside_any(land_outlines(), lat, lon) && !inside_any(inland_seas(), lat, lon);
}

const Outline* find(std::string_view name) {
  for (const Outline& outline : land_outlines()) {
    if (outline.name == name) return &outline;
  }
  return nullptr;
}

double cross(const GeoPoint& o, const GeoPoint& a, const GeoPoint& b) {
  return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

bool segments_cross(const GeoPoint& a, const GeoPoint& b, const GeoPoint& c, const GeoPoint& d) {
  double d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

struct Place {
  const char* name;
  double lat, lon;
};

TEST(WorldMap, HasTheWholeWorldsLand) {
  // Natural Earth's 1:110m land is 125 polygons: a few are cut in two at ±180 or at an
  // isthmus, and a few specks smaller than 0.1 degree are left out.
  EXPECT_GE(land_outlines().size(), 120u);
}

TEST(WorldMap, EveryRingIsClosedAndOnTheMap) {
  for (const auto& group : {land_outlines(), inland_seas()}) {
    for (const Outline& outline : group) {
      auto p = outline.points;
      ASSERT_GE(p.size(), 4u) << outline.name;
      EXPECT_TRUE(p.front().lat == p.back().lat && p.front().lon == p.back().lon)
          << outline.name << " (" << p.front().lat << ", " << p.front().lon << ")";
      for (const GeoPoint& q : p) {
        EXPECT_TRUE(q.lat >= -90 && q.lat <= 90 && q.lon >= -180 && q.lon <= 180)
            << outline.name << " (" << q.lat << ", " << q.lon << ")";
      }
    }
  }
}

// An edge from one side of the antimeridian to the other would be drawn right across
// the map; the only long edges are the one along the south pole, the map's bottom edge.
TEST(WorldMap, NoEdgeCrossesTheMap) {
  for (const auto& group : {land_outlines(), inland_seas()}) {
    for (const Outline& outline : group) {
      auto p = outline.points;
      for (size_t i = 0; i + 1 < p.size(); ++i) {
        bool along_a_pole = std::abs(p[i].lat) == 90 && p[i + 1].lat == p[i].lat;
        EXPECT_TRUE(std::abs(p[i + 1].lon - p[i].lon) <= 30 || along_a_pole)
            << outline.name << ": (" << p[i].lat << ", " << p[i].lon << ") to (" << p[i + 1].lat
            << ", " << p[i + 1].lon << ")";
      }
    }
  }
}

TEST(WorldMap, NoOutlineCrossesItself) {
  for (const auto& group : {land_outlines(), inland_seas()}) {
    for (const Outline& outline : group) {
      auto p = outline.points;
      size_t edges = p.size() - 1;
      for (size_t i = 0; i < edges; ++i) {
        for (size_t j = i + 2; j < edges; ++j) {
          EXPECT_FALSE(segments_cross(p[i], p[i + 1], p[j], p[j + 1]))
              << outline.name << ": edge " << i << " crosses edge " << j;
        }
      }
    }
  }
}

TEST(WorldMap, CitiesAreOnLand) {
  for (const Place& city : {
           Place{"Berlin", 52.52, 13.40},       Place{"Tokyo", 35.68, 139.69},
           Place{"São Paulo", -23.55, -46.63},  Place{"Sydney", -33.87, 151.21},
           Place{"Chicago", 41.9, -87.6},       Place{"Mexico City", 19.4, -99.1},
           Place{"Anchorage", 61.2, -149.9},    Place{"Lima", -12.05, -77.04},
           Place{"Buenos Aires", -34.6, -58.4}, Place{"Madrid", 40.4, -3.7},
           Place{"London", 51.5, -0.1},         Place{"Delhi", 28.6, 77.2},
           Place{"Beijing", 39.9, 116.4},       Place{"Lagos", 6.5, 3.4},
           Place{"Johannesburg", -26.2, 28.0},  Place{"Auckland", -36.85, 174.75},
           Place{"Nuuk", 64.2, -51.7},          Place{"Reykjavik", 64.1, -21.9},
       }) {
    EXPECT_TRUE(on_land(city.lat, city.lon)) << city.name;
  }
}

TEST(WorldMap, OpenWaterIsNotLand) {
  for (const Place& sea : {
           Place{"mid-Atlantic", 30, -40},     Place{"South Atlantic", -35, -15},
           Place{"mid-Pacific", 0, -150},      Place{"Indian Ocean", -40, 80},
           Place{"Southern Ocean", -60, 0},    Place{"Drake Passage", -58, -65},
           Place{"Mediterranean", 35, 18},     Place{"Black Sea", 43.5, 34},
           Place{"Red Sea", 20, 38.5},         Place{"Baltic Sea", 57.5, 19.5},
           Place{"Gulf of Mexico", 25, -90},   Place{"Hudson Bay", 60, -85},
           Place{"Caspian Sea", 42, 51},       Place{"Bering Sea", 60, -175},
       }) {
    EXPECT_FALSE(on_land(sea.lat, sea.lon)) << sea.name;
  }
}

// Where a ring crosses ±180 both sides are land and the ocean beside them is not.
TEST(WorldMap, LandOnBothSidesOfTheAntimeridian) {
  for (const Place& land : {
           Place{"Anadyr", 64.7, 177.5},           Place{"Chukotka", 66, -172},
           Place{"Wrangel Island west", 71.2, 179.5}, Place{"Wrangel Island east", 71.2, -179.5},
           Place{"Vanua Levu", -16.6, 179.3},      Place{"Antarctica at 180", -85, 179.9},
           Place{"Antarctica at -180", -85, -179.9},
       }) {
    EXPECT_TRUE(on_land(land.lat, land.lon)) << land.name;
  }
  EXPECT_FALSE(on_land(50, 179.9));
  EXPECT_FALSE(on_land(50, -179.9));
}

// Its real coast, reaching the pole, not a band along the bottom of the map. Natural
// Earth's land leaves out the ice shelves: the Ross and Weddell Seas reach far south.
TEST(WorldMap, AntarcticaHasItsShape) {
  for (const Place& land : {
           Place{"South Pole", -89.99, 0},    Place{"Vostok", -78.46, 106.84},
           Place{"Queen Maud Land", -72, 0},  Place{"Antarctic Peninsula", -64, -58.5},
       }) {
    EXPECT_TRUE(on_land(land.lat, land.lon)) << land.name;
  }
  for (const Place& sea : {Place{"Ross Ice Shelf", -80, -175}, Place{"Weddell Sea", -76, -50}}) {
    EXPECT_FALSE(on_land(sea.lat, sea.lon)) << sea.name;
  }
}

// The page names the continents in their tooltips: each is a ring of its own, split
// from its neighbour at Suez or Darién.
TEST(WorldMap, ContinentsAreNamed) {
  struct City {
    const char* name;
    double lat, lon;
    const char* land;
  };
  for (const City& city : {
           City{"Chicago", 41.9, -87.6, "North America"},
           City{"Panama City", 9.0, -79.5, "North America"},
           City{"Bogotá", 4.6, -74.1, "South America"},
           City{"Brasília", -15.8, -47.9, "South America"},
           City{"Moscow", 55.75, 37.6, "Eurasia"},
           City{"Jerusalem", 31.8, 35.2, "Eurasia"},
           City{"Cairo", 30.0, 31.2, "Africa"},
           City{"Nairobi", -1.3, 36.8, "Africa"},
           City{"Alice Springs", -23.7, 133.9, "Australia"},
           City{"Vostok", -78.46, 106.84, "Antarctica"},
           City{"Nuuk", 64.2, -51.7, "Greenland"},
       }) {
    const Outline* land = find(city.land);
    ASSERT_NE(land, nullptr) << city.land;
    EXPECT_TRUE(inside(*land, city.lat, city.lon)) << city.name << " not in " << city.land;
  }
}

TEST(WorldMap, TheCaspianSeaLiesInsideEurasia) {
  const Outline* eurasia = find("Eurasia");
  ASSERT_NE(eurasia, nullptr);
  ASSERT_EQ(inland_seas().size(), 1u);
  const Outline& caspian = inland_seas()[0];
  EXPECT_EQ(caspian.name, "Caspian Sea");
  for (const GeoPoint& p : caspian.points) {
    EXPECT_TRUE(inside(*eurasia, p.lat, p.lon)) << "(" << p.lat << ", " << p.lon << ")";
  }
}

}  // namespace
}  // namespace geosteer::metrics

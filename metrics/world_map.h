// Simplified coastlines for the status page's world map: enough points that each
// continent is recognisable at 1000 px wide, few enough to hand-write and to send on
// every refresh. Internal to metrics/.
#pragma once

#include <span>
#include <string_view>

namespace geosteer::metrics {

struct GeoPoint {
  double lat, lon;
};

struct Outline {
  std::string_view name;
  std::span<const GeoPoint> points;  // a closed ring, in order along the coast
};

// Continents and the larger islands.
std::span<const Outline> land_outlines();
// Seas enclosed by one land outline (Black Sea, Caspian Sea), drawn over it as water.
std::span<const Outline> inland_seas();

}  // namespace geosteer::metrics

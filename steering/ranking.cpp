#include "steering/ranking.h"

#include <cmath>
#include <numbers>

namespace geosteer::steering {
namespace {

// Mean Earth radius (IUGG), in kilometres.
constexpr double kEarthRadiusKm = 6371.0088;

}  // namespace

double distance_km(Coordinates a, Coordinates b) {
  constexpr double kRadiansPerDegree = std::numbers::pi / 180.0;
  double lat1 = a.lat * kRadiansPerDegree, lat2 = b.lat * kRadiansPerDegree;
  double half_dlat = (b.lat - a.lat) * kRadiansPerDegree / 2;
  double half_dlon = (b.lon - a.lon) * kRadiansPerDegree / 2;
  double h = std::sin(half_dlat) * std::sin(half_dlat) +
             std::cos(lat1) * std::cos(lat2) * std::sin(half_dlon) * std::sin(half_dlon);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(std::min(1.0, h)));
}

}  // namespace geosteer::steering

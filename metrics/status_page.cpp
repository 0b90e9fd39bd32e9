#include "metrics/status_page.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <numbers>
#include <numeric>
#include <string_view>

#include "metrics/catchment.h"
#include "metrics/status_text.h"
#include "metrics/world_map.h"

namespace geosteer::metrics {
namespace {

// ---- text --------------------------------------------------------------------

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 if it is not
// one (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, cut short).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char min_second = 0x80, max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Calls `ascii(c)` for each ASCII character and `other(bytes)` for each well-formed
// multi-byte character, with U+FFFD in place of each malformed byte: names come from
// configuration and reasons from remote servers, and neither may break the page.
template <typename Ascii, typename Other>
void for_each_character(std::string_view text, Ascii ascii, Other other) {
  for (size_t i = 0; i < text.size();) {
    size_t length = utf8_sequence_length(text, i);
    if (length == 1) {
      ascii(text[i]);
    } else {
      other(length == 0 ? kReplacementCharacter : text.substr(i, length));
    }
    i += length == 0 ? 1 : length;
  }
}

// Escaped for HTML text and for attribute values in double or single quotes.
std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_character(
      text,
      [&](char c) {
        switch (c) {
          case '&': out += "&amp;"; break;
          case '<': out += "&lt;"; break;
          case '>': out += "&gt;"; break;
          case '"': out += "&quot;"; break;
          case '\'': out += "&#39;"; break;
          case '\t': case '\n': case '\r': out += ' '; break;
          default:
            // Other control characters are not allowed in an HTML document.
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
              out += kReplacementCharacter;
            } else {
              out += c;
            }
        }
      },
      [&](std::string_view character) { out += character; });
  return out;
}

std::string fixed_text(double value, int decimals) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed,
                              decimals);
  if (result.ec != std::errc()) return "?";
  return std::string(buffer, result.ptr);
}

// For people: "2024-05-01 12:34:56 UTC".
std::string readable_time_text(int64_t unix_seconds) {
  return utc_time_text(unix_seconds, "%Y-%m-%d %H:%M:%S UTC");
}

// For <time datetime="...">: "2024-05-01T12:34:56Z".
std::string machine_time_text(int64_t unix_seconds) {
  return utc_time_text(unix_seconds, "%Y-%m-%dT%H:%M:%SZ");
}

// The largest whole unit: 42s, 5m, 3h, 2d.
std::string compact_duration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

std::string latency_text(double ms) { return fixed_text(ms, ms < 10 ? 1 : 0) + " ms"; }

// ---- states --------------------------------------------------------------------

struct StateStyle {
  std::string_view name;
  std::string_view colour;
};

constexpr StateStyle kStates[] = {
    {"up", "#2e9d4a"},       {"stale", "#e0b000"}, {"slow", "#f07800"},
    {"flapping", "#9b3fb5"}, {"down", "#d62828"},  {"drained", "#8a8a8a"},
};
constexpr StateStyle kUnknownState = {"unknown", "#5a6cc8"};

// Only known states become CSS classes: the model's text is not trusted as markup.
std::string_view state_class(std::string_view state) {
  for (const auto& style : kStates) {
    if (style.name == state) return style.name;
  }
  return kUnknownState.name;
}

// Each mirror's own colour, by its place in the model: the ring around its marker,
// its swatch in the mirror list and the dots of its clients. Tableau's ten, with the
// green and red of "up" and "down" last; beyond ten, hues a golden angle apart.
constexpr std::string_view kMirrorColours[] = {"#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1",
                                               "#9c755f", "#ff9da7", "#edc948", "#59a14f",
                                               "#e15759", "#bab0ac"};

std::string mirror_colour(size_t index) {
  if (index < std::size(kMirrorColours)) return std::string(kMirrorColours[index]);
  double hue = std::fmod(static_cast<double>(index) * 137.508, 360.0);
  return "hsl(" + fixed_text(hue, 0) + ",55%,45%)";
}

// ---- map -----------------------------------------------------------------------

constexpr double kMapWidth = 1000;
constexpr double kMapHeight = 500;

// Equirectangular: longitude and latitude scale linearly to x and y.
double map_x(double lon) { return (lon + 180) / 360 * kMapWidth; }
double map_y(double lat) { return (90 - lat) / 180 * kMapHeight; }

std::string polygon_points(const Outline& outline) {
  std::string points;
  for (const GeoPoint& p : outline.points) {
    if (!points.empty()) points += ' ';
    points += fixed_text(map_x(p.lon), 1) + ',' + fixed_text(map_y(p.lat), 1);
  }
  return points;
}

std::string graticule() {
  std::string lines;
  for (int lon = -150; lon <= 150; lon += 30) {
    std::string x = fixed_text(map_x(lon), 1);
    lines += "<line x1=\"" + x + "\" y1=\"0\" x2=\"" + x + "\" y2=\"" +
             fixed_text(kMapHeight, 0) + "\"/>";
  }
  for (int lat = -60; lat <= 60; lat += 30) {
    std::string y = fixed_text(map_y(lat), 1);
    lines += "<line x1=\"0\" y1=\"" + y + "\" x2=\"" + fixed_text(kMapWidth, 0) + "\" y2=\"" +
             y + "\"" + (lat == 0 ? " class=\"equator\"" : "") + "/>";
  }
  return "<g class=\"graticule\">" + lines + "</g>\n";
}

// Where a mirror's marker is drawn, and its label. Mirrors at the same place or
// nearly (markers that would touch) are drawn side by side around their centre, each
// with a thin leader to where it really is.
struct Placement {
  double x = 0, y = 0;              // the marker
  double true_x = 0, true_y = 0;    // the mirror's own coordinates, projected
  double label_x = 0, label_y = 0;
  std::string_view label_anchor = "start";
  bool moved = false;
};

constexpr double kMarkerRadius = 6;
constexpr double kHaloRadius = 8.5;  // the ring in the mirror's colour
// Markers closer than this (centre to centre) would touch: they are drawn this far apart.
constexpr double kMarkerSpacing = 2 * kHaloRadius + 2;
constexpr double kLabelGap = kHaloRadius + 3;
constexpr double kLabelLine = 13;

std::vector<Placement> place_mirrors(const std::vector<MirrorStatus>& mirrors) {
  const size_t n = mirrors.size();
  std::vector<Placement> placed(n);
  for (size_t i = 0; i < n; ++i) {
    Placement& p = placed[i];
    p.x = p.true_x = map_x(mirrors[i].lon);
    p.y = p.true_y = map_y(mirrors[i].lat);
    p.label_x = p.x + kLabelGap;
    p.label_y = p.y + 4;
  }
  // Groups of markers that touch, directly or through others (union-find).
  std::vector<size_t> group(n);
  std::iota(group.begin(), group.end(), size_t{0});
  auto root = [&](size_t i) {
    while (group[i] != i) i = group[i] = group[group[i]];
    return i;
  };
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double dx = placed[i].true_x - placed[j].true_x, dy = placed[i].true_y - placed[j].true_y;
      if (std::hypot(dx, dy) < kMarkerSpacing) group[root(j)] = root(i);
    }
  }
  std::map<size_t, std::vector<size_t>> groups;  // in model order within each
  for (size_t i = 0; i < n; ++i) groups[root(i)].push_back(i);

  for (const auto& [first, members] : groups) {
    const size_t k = members.size();
    if (k < 2) continue;
    double cx = 0, cy = 0;
    for (size_t m : members) {
      cx += placed[m].true_x;
      cy += placed[m].true_y;
    }
    cx /= static_cast<double>(k);
    cy /= static_cast<double>(k);
    if (k <= 4) {
      // A row, labels beside a pair and listed to the right of more.
      for (size_t r = 0; r < k; ++r) {
        Placement& p = placed[members[r]];
        double offset = static_cast<double>(r) - static_cast<double>(k - 1) / 2;
        p.x = cx + offset * kMarkerSpacing;
        p.y = cy;
        p.moved = true;
        if (k == 2) {
          p.label_x = r == 0 ? p.x - kLabelGap : p.x + kLabelGap;
          p.label_anchor = r == 0 ? "end" : "start";
          p.label_y = cy + 4;
        } else {
          p.label_x = cx + static_cast<double>(k - 1) / 2 * kMarkerSpacing + kLabelGap;
          p.label_y = cy + 4 + offset * kLabelLine;
        }
      }
    } else {
      // A ring whose neighbours are kMarkerSpacing apart, labels outside it.
      const double pi = std::numbers::pi;
      double radius = kMarkerSpacing / (2 * std::sin(pi / static_cast<double>(k)));
      for (size_t r = 0; r < k; ++r) {
        Placement& p = placed[members[r]];
        double angle = -pi / 2 + 2 * pi * static_cast<double>(r) / static_cast<double>(k);
        p.x = cx + radius * std::cos(angle);
        p.y = cy + radius * std::sin(angle);
        p.moved = true;
        p.label_x = cx + (radius + kLabelGap) * std::cos(angle);
        p.label_y = cy + (radius + kLabelGap) * std::sin(angle) + 4;
        double c = std::cos(angle);
        p.label_anchor = c > 0.3 ? "start" : c < -0.3 ? "end" : "middle";
      }
    }
  }
  return placed;
}

std::string mirror_dot(const MirrorStatus& mirror, const Placement& at, const std::string& colour) {
  std::string id = html_escape(mirror.id);
  std::string state = std::string(state_class(mirror.state));
  std::string x = fixed_text(at.x, 1);
  std::string y = fixed_text(at.y, 1);
  std::string tooltip = mirror.id + ": " + mirror.state;
  if (!mirror.reason.empty()) tooltip += " (" + mirror.reason + ")";
  std::string leader;
  if (at.moved) {
    leader = "<line class=\"leader\" x1=\"" + fixed_text(at.true_x, 1) + "\" y1=\"" +
             fixed_text(at.true_y, 1) + "\" x2=\"" + x + "\" y2=\"" + y +
             "\"/><circle class=\"anchor\" cx=\"" + fixed_text(at.true_x, 1) + "\" cy=\"" +
             fixed_text(at.true_y, 1) + "\" r=\"2\"/>";
  }
  return "<g class=\"mirror\">" + leader + "<circle class=\"halo\" cx=\"" + x + "\" cy=\"" + y +
         "\" r=\"" + fixed_text(kHaloRadius, 1) + "\" stroke=\"" + colour +
         "\"/><circle class=\"dot state-" + state + "\" data-mirror=\"" + id + "\" cx=\"" + x +
         "\" cy=\"" + y + "\" r=\"" + fixed_text(kMarkerRadius, 0) + "\"><title>" +
         html_escape(tooltip) + "</title></circle><text class=\"label\" x=\"" +
         fixed_text(at.label_x, 1) + "\" y=\"" + fixed_text(at.label_y, 1) + "\"" +
         (at.label_anchor == "start" ? "" : " text-anchor=\"" + std::string(at.label_anchor) + "\"") +
         ">" + id + "</text></g>\n";
}

// "52°N 14°E": a catchment cell by its centre, in whole degrees (the grid is coarser).
std::string cell_name(const CatchmentCell& cell) {
  auto part = [](double value, const char* positive, const char* negative, bool longitude) {
    long degrees = std::lround(value);
    long magnitude = degrees < 0 ? -degrees : degrees;
    std::string text = std::to_string(magnitude) + "\u00B0";
    // The equator and the prime meridian, and the antimeridian, are neither side.
    if (magnitude == 0 || (longitude && magnitude == 180)) return text;
    return text + (degrees > 0 ? positive : negative);
  };
  return part(cell.lat, "N", "S", false) + " " + part(cell.lon, "E", "W", true);
}

std::string cell_with_countries(const CatchmentCell& cell) {
  std::string text = cell_name(cell);
  if (!cell.countries.empty()) {
    text += " (";
    for (size_t i = 0; i < cell.countries.size(); ++i) text += (i ? ", " : "") + cell.countries[i];
    text += ")";
  }
  return text;
}

std::string answers_text(uint64_t answers, bool estimated) {
  return (estimated ? "\u2248" : "") + std::to_string(answers) + (answers == 1 ? " answer" : " answers");
}

// Radius of a catchment dot: its area grows with the answers (square root), up to a
// cap, relative to the largest cell once cells have more than kFullDot answers, so
// that one client is a small dot and not the largest on a quiet server. A cell around
// its own mirror shows from a few answers on, as a disc wider than the marker.
constexpr double kMinDot = 4, kMaxDot = 18, kFullDot = 20;

double catchment_radius(uint64_t answers, uint64_t largest) {
  double scale = std::max(static_cast<double>(largest), kFullDot);
  return std::min(kMaxDot, kMinDot + (kMaxDot - kMinDot) * std::sqrt(static_cast<double>(answers) / scale));
}

// The line from a cell to its mirror, the short way round: across the map's edge
// (as two lines the map clips) when that is shorter, as from California to Tokyo.
std::string spoke(double x1, double y1, const Placement& mirror, const std::string& colour) {
  auto line = [&](double from_x, double to_x) {
    return "<line class=\"spoke\" x1=\"" + fixed_text(from_x, 1) + "\" y1=\"" + fixed_text(y1, 1) +
           "\" x2=\"" + fixed_text(to_x, 1) + "\" y2=\"" + fixed_text(mirror.y, 1) + "\" stroke=\"" +
           colour + "\"/>\n";
  };
  double dx = mirror.x - x1;
  if (dx > kMapWidth / 2) return line(x1, mirror.x - kMapWidth) + line(x1 + kMapWidth, mirror.x);
  if (dx < -kMapWidth / 2) return line(x1, mirror.x + kMapWidth) + line(x1 - kMapWidth, mirror.x);
  return line(x1, mirror.x);
}

// Every mirror's clients over the window: a line from each cell to the mirror that
// answered it first and a dot on the cell, in the mirror's colour, largest first so
// that smaller ones stay visible on top.
std::string catchment_layer(const StatusModel& model, const std::vector<Placement>& placed) {
  struct Dot {
    size_t mirror;
    const CatchmentCell* cell;
  };
  std::vector<Dot> dots;
  uint64_t largest = 0;
  for (size_t m = 0; m < model.mirrors.size(); ++m) {
    for (const CatchmentCell& cell : model.mirrors[m].catchment.cells) {
      dots.push_back({m, &cell});
      largest = std::max(largest, cell.answers);
    }
  }
  std::stable_sort(dots.begin(), dots.end(),
                   [](const Dot& a, const Dot& b) { return a.cell->answers > b.cell->answers; });
  std::string spokes, circles;
  for (const Dot& dot : dots) {
    const MirrorStatus& mirror = model.mirrors[dot.mirror];
    std::string colour = mirror_colour(dot.mirror);
    std::string x = fixed_text(map_x(dot.cell->lon), 1);
    std::string y = fixed_text(map_y(dot.cell->lat), 1);
    spokes += spoke(map_x(dot.cell->lon), map_y(dot.cell->lat), placed[dot.mirror], colour);
    std::string title = answers_text(dot.cell->answers, mirror.catchment.estimated) + " from " +
                        cell_with_countries(*dot.cell) + " to " + mirror.id;
    circles += "<circle class=\"catchment\" data-mirror=\"" + html_escape(mirror.id) +
               "\" data-cell=\"" + fixed_text(dot.cell->lat, 0) + "," + fixed_text(dot.cell->lon, 0) +
               "\" data-answers=\"" + std::to_string(dot.cell->answers) + "\" cx=\"" + x +
               "\" cy=\"" + y + "\" r=\"" +
               fixed_text(catchment_radius(dot.cell->answers, largest), 1) + "\" fill=\"" + colour +
               "\" stroke=\"" + colour + "\"><title>" + html_escape(title) + "</title></circle>\n";
  }
  return "<g class=\"catchments\">\n" + spokes + circles + "</g>\n";
}

std::string map_legend() {
  double height = 20.0 * std::size(kStates) + 8;
  std::string legend = "<g class=\"legend\" transform=\"translate(8 " +
                       fixed_text(kMapHeight - height - 8, 0) +
                       ")\"><rect x=\"0\" y=\"-4\" width=\"84\" height=\"" +
                       fixed_text(height, 0) + "\" rx=\"4\"/>";
  double y = 0;
  for (const auto& style : kStates) {
    std::string name(style.name);
    legend += "<circle class=\"dot state-" + name + "\" cx=\"8\" cy=\"" + fixed_text(y + 8, 0) +
              "\" r=\"6\"/><text x=\"20\" y=\"" + fixed_text(y + 12, 0) + "\">" + name +
              "</text>";
    y += 20;
  }
  return legend + "</g>\n";
}

std::string world_map(const StatusModel& model) {
  std::string svg =
      "<svg id=\"map\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
      fixed_text(kMapWidth, 0) + " " + fixed_text(kMapHeight, 0) +
      "\" role=\"img\" aria-label=\"World map of the mirrors, coloured by state, and of their "
      "clients, in each mirror's colour\">\n"
      "<rect class=\"ocean\" x=\"0\" y=\"0\" width=\"" +
      fixed_text(kMapWidth, 0) + "\" height=\"" + fixed_text(kMapHeight, 0) + "\"/>\n" +
      graticule() + "<g class=\"land\">\n";
  for (const Outline& outline : land_outlines()) {
    // Most islands have no name: no tooltip rather than an empty one.
    std::string title =
        outline.name.empty() ? "" : "<title>" + std::string(outline.name) + "</title>";
    svg += "<polygon points=\"" + polygon_points(outline) + "\">" + title + "</polygon>\n";
  }
  svg += "</g>\n<g class=\"water\">\n";
  for (const Outline& outline : inland_seas()) {
    svg += "<polygon points=\"" + polygon_points(outline) + "\"/>\n";
  }
  svg += "</g>\n";
  std::vector<Placement> placed = place_mirrors(model.mirrors);
  svg += catchment_layer(model, placed);
  svg += "<g class=\"mirrors\">\n";
  for (size_t i = 0; i < model.mirrors.size(); ++i) {
    svg += mirror_dot(model.mirrors[i], placed[i], mirror_colour(i));
  }
  return svg + "</g>\n" + map_legend() + "</svg>\n";
}

// ---- tables --------------------------------------------------------------------

std::string badge(const MirrorStatus& mirror) {
  return "<span class=\"badge state-" + std::string(state_class(mirror.state)) + "\">" +
         html_escape(mirror.state) + "</span>";
}

std::string cell(std::string_view cls, const std::string& html) {
  return "<td class=\"" + std::string(cls) + "\">" + html + "</td>";
}

// Each address's own state, under the reason, when the mirror has several.
std::string address_list(const MirrorStatus& mirror) {
  if (mirror.addresses.size() < 2) return {};
  std::string list = "<ul class=\"addresses\">";
  for (const AddressStatus& a : mirror.addresses) {
    list += "<li data-address=\"" + html_escape(a.address) + "\">" + html_escape(a.address) +
            " <span class=\"badge state-" + std::string(state_class(a.state)) + "\">" +
            html_escape(a.state) + "</span>";
    if (!a.reason.empty()) list += " " + html_escape(a.reason);
    list += "</li>";
  }
  return list + "</ul>";
}

std::string mirror_row(const ServiceMirrorStatus& entry, const MirrorStatus* mirror,
                       int64_t now_unix) {
  std::string id = html_escape(entry.mirror);
  std::string_view state = mirror ? state_class(mirror->state) : kUnknownState.name;
  std::string row = "<tr class=\"mirror state-" + std::string(state) + "\" data-mirror=\"" +
                    id + "\">";
  row += cell("id", mirror ? "<span title=\"" + html_escape(mirror->url) + "\">" + id + "</span>"
                           : id);
  if (!mirror) {
    return row + cell("state", "<span class=\"badge state-unknown\">unknown</span>") +
           "<td colspan=\"4\">not in the configuration</td>" +
           cell("share", fixed_text(entry.answer_share * 100, 1) + "%") +
           cell("answers", std::to_string(entry.answers)) + "</tr>\n";
  }
  std::string state_html = badge(*mirror);
  if (!mirror->probed && mirror->state != "drained") state_html += " <small>not probed</small>";
  row += cell("state", state_html);
  row += cell("reason", html_escape(mirror->reason) + address_list(*mirror));
  row += cell("latency", mirror->latency_ms ? latency_text(*mirror->latency_ms) : "&#8211;");
  row += cell("lag", mirror->lag_seconds ? compact_duration(*mirror->lag_seconds) : "&#8211;");
  std::string transition = "since start";
  if (mirror->last_transition_unix) {
    transition = "<time datetime=\"" + machine_time_text(*mirror->last_transition_unix) +
                 "\">" + readable_time_text(*mirror->last_transition_unix) + "</time> (" +
                 compact_duration(now_unix - *mirror->last_transition_unix) + " ago)";
  }
  row += cell("transition", transition);
  row += cell("share", fixed_text(entry.answer_share * 100, 1) + "%");
  row += cell("answers", std::to_string(entry.answers));
  return row + "</tr>\n";
}

std::string service_table(const ServiceStatus& service, const StatusModel& model,
                          const std::map<std::string_view, const MirrorStatus*>& mirrors) {
  std::string name = html_escape(service.name);
  std::string table = "<section class=\"service\" data-service=\"" + name + "\">\n<h2>" + name +
                      "</h2>\n<table>\n<thead><tr><th>mirror</th><th>state</th><th>reason</th>"
                      "<th>latency</th><th>lag</th><th>last transition</th>"
                      "<th>share</th><th>answers</th></tr></thead>\n<tbody>\n";
  for (const ServiceMirrorStatus& entry : service.mirrors) {
    auto found = mirrors.find(entry.mirror);
    table += mirror_row(entry, found == mirrors.end() ? nullptr : found->second, model.now_unix);
  }
  return table + "</tbody>\n</table>\n</section>\n";
}

// ---- the mirrors as configured, and their clients -----------------------------

std::string dash() { return "&#8211;"; }

std::string plain_list(const std::vector<std::string>& items) {
  if (items.empty()) return dash();
  std::string list = "<ul class=\"plain\">";
  for (const std::string& item : items) list += "<li>" + html_escape(item) + "</li>";
  return list + "</ul>";
}

// Where the mirror's clients were: the total, the cells with most answers, the rest.
constexpr size_t kListedCells = 3;

std::string clients_cell(const Catchment& catchment) {
  uint64_t total = catchment.unlocated;
  for (const CatchmentCell& cell : catchment.cells) total += cell.answers;
  if (total == 0) return "none";
  std::string html = "<span class=\"total\">" + answers_text(total, catchment.estimated) + "</span>";
  std::string items;
  for (size_t i = 0; i < catchment.cells.size() && i < kListedCells; ++i) {
    const CatchmentCell& cell = catchment.cells[i];
    items += "<li>" + html_escape(cell_with_countries(cell)) + ": " +
             (catchment.estimated ? "\u2248" : "") + std::to_string(cell.answers) + "</li>";
  }
  if (catchment.cells.size() > kListedCells) {
    size_t more = catchment.cells.size() - kListedCells;
    items += "<li>and " + std::to_string(more) + (more == 1 ? " more cell" : " more cells") + "</li>";
  }
  if (catchment.unlocated > 0) {
    items += "<li>not located: " + std::to_string(catchment.unlocated) + "</li>";
  }
  return html + "<ul class=\"plain\">" + items + "</ul>";
}

std::string mirror_list(const StatusModel& model) {
  std::string table =
      "<section id=\"mirror-list\">\n<h2>Mirrors</h2>\n<table>\n<thead><tr><th>mirror</th>"
      "<th>location</th><th>addresses</th><th>families</th><th>weight</th><th>home</th>"
      "<th>clients over the last " + compact_duration(model.share_window_seconds) +
      "</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < model.mirrors.size(); ++i) {
    const MirrorStatus& mirror = model.mirrors[i];
    std::string id = html_escape(mirror.id);
    std::vector<std::string> all = mirror.ipv4;
    all.insert(all.end(), mirror.ipv6.begin(), mirror.ipv6.end());
    std::string families;
    if (!mirror.ipv4.empty()) families = "IPv4";
    if (!mirror.ipv6.empty()) families += std::string(families.empty() ? "" : ", ") + "IPv6";
    std::vector<std::string> home = mirror.home_networks;
    for (uint32_t asn : mirror.home_asns) home.push_back("AS" + std::to_string(asn));
    table += "<tr class=\"mirror-config\" data-mirror=\"" + id + "\">";
    table += cell("id", "<span class=\"swatch\" style=\"background:" + mirror_colour(i) +
                            "\"></span> <span title=\"" + html_escape(mirror.url) + "\">" + id +
                            "</span>");
    table += cell("location", fixed_text(mirror.lat, 2) + ", " + fixed_text(mirror.lon, 2));
    table += cell("addresses", plain_list(all));
    table += cell("families", families.empty() ? "none" : families);
    table += cell("weight", std::to_string(mirror.weight));
    table += cell("home", plain_list(home));
    table += cell("clients", clients_cell(mirror.catchment));
    table += "</tr>\n";
  }
  return table + "</tbody>\n</table>\n</section>\n";
}

// ---- query rate ----------------------------------------------------------------

constexpr int64_t kRateSpanSeconds = 15 * 60;  // what the sparkline spans
constexpr double kSparkWidth = 320, kSparkHeight = 48, kSparkPad = 3;

std::string rate_text(double per_second) {
  return fixed_text(per_second, per_second < 10 ? 2 : per_second < 100 ? 1 : 0);
}

std::string query_rate_section(const StatusModel& model) {
  std::string html = "<section id=\"query-rate\">\n<h2>Queries</h2>\n<p class=\"rate\">";
  const std::vector<QueryRatePoint>& points = model.query_rate;
  if (points.empty()) {
    return html + "Not measured yet: the rate is taken every " +
           compact_duration(model.query_rate_step_seconds) + ".</p>\n</section>\n";
  }
  double peak = 0;
  for (const QueryRatePoint& p : points) peak = std::max(peak, p.per_second);
  html += "<span id=\"current-rate\">" + rate_text(points.back().per_second) +
          "</span> queries/s over the last " + compact_duration(model.query_rate_step_seconds) +
          "; peak " + rate_text(peak) + " queries/s over the last " +
          compact_duration(kRateSpanSeconds) + ".</p>\n";

  // Time runs left to right over the span, ending now; the peak reaches the top.
  const int64_t start = model.now_unix - kRateSpanSeconds;
  auto x_of = [&](int64_t unix_time) {
    double share = static_cast<double>(std::clamp<int64_t>(unix_time - start, 0, kRateSpanSeconds)) /
                   static_cast<double>(kRateSpanSeconds);
    return kSparkPad + share * (kSparkWidth - 2 * kSparkPad);
  };
  auto y_of = [&](double rate) {
    double share = peak > 0 ? rate / peak : 0;
    return kSparkHeight - kSparkPad - share * (kSparkHeight - 2 * kSparkPad);
  };
  std::string line;
  for (const QueryRatePoint& p : points) {
    if (!line.empty()) line += ' ';
    line += fixed_text(x_of(p.unix_time), 1) + ',' + fixed_text(y_of(p.per_second), 1);
  }
  std::string bottom = fixed_text(kSparkHeight - kSparkPad, 1);
  std::string area = fixed_text(x_of(points.front().unix_time), 1) + ',' + bottom + ' ' + line + ' ' +
                     fixed_text(x_of(points.back().unix_time), 1) + ',' + bottom;
  html += "<svg class=\"spark\" id=\"query-rate-spark\" xmlns=\"http://www.w3.org/2000/svg\" "
          "viewBox=\"0 0 " + fixed_text(kSparkWidth, 0) + " " + fixed_text(kSparkHeight, 0) +
          "\" width=\"" + fixed_text(kSparkWidth, 0) + "\" height=\"" + fixed_text(kSparkHeight, 0) +
          "\" role=\"img\" aria-label=\"Queries per second, every " +
          compact_duration(model.query_rate_step_seconds) + " over the last " +
          compact_duration(kRateSpanSeconds) + "\"><line class=\"base\" x1=\"0\" y1=\"" + bottom +
          "\" x2=\"" + fixed_text(kSparkWidth, 0) + "\" y2=\"" + bottom +
          "\"/><polygon class=\"area\" points=\"" + area + "\"/><polyline class=\"line\" points=\"" +
          line + "\"/></svg>\n<p class=\"axis\">" + compact_duration(kRateSpanSeconds) +
          " ago &#8211; now</p>\n";
  return html + "</section>\n";
}

// ---- GeoIP databases -------------------------------------------------------------

std::string database_section(const StatusModel& model) {
  std::string html = "<section id=\"databases\">\n<h2>GeoIP databases</h2>\n";
  if (model.databases.empty()) return html + "<p>None: no client is located.</p>\n</section>\n";
  html += "<table>\n<thead><tr><th>file</th><th>kind</th><th>type</th><th>addresses</th>"
          "<th>built</th></tr></thead>\n<tbody>\n";
  for (const DatabaseStatus& db : model.databases) {
    std::string date = utc_time_text(db.build_epoch, "%Y-%m-%d");
    html += "<tr data-database=\"" + html_escape(db.path) + "\">" + cell("path", html_escape(db.path)) +
            cell("kind", html_escape(db.kind)) + cell("type", html_escape(db.type)) +
            cell("version", "IPv" + std::to_string(db.ip_version)) +
            cell("built", "<time datetime=\"" + date + "\">" + date + "</time> (" +
                              compact_duration(model.now_unix - db.build_epoch) + " old)") +
            "</tr>\n";
  }
  html += "</tbody>\n</table>\n";
  // DB-IP's licence (CC BY 4.0) asks pages that show its results to link to it.
  bool dbip = std::any_of(model.databases.begin(), model.databases.end(), [](const DatabaseStatus& db) {
    return db.type.find("DBIP") != std::string::npos || db.type.find("ipLocationDb") != std::string::npos;
  });
  if (dbip) html += "<p class=\"credit\"><a href=\"https://db-ip.com\">IP Geolocation by DB-IP</a></p>\n";
  return html + "</section>\n";
}

std::string style_sheet() {
  std::string css =
      "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
      "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
      ".meta{color:#555;margin:0 0 1em}"
      "#map{width:100%;max-width:1000px;height:auto;border:1px solid #ccc;display:block;overflow:hidden}"
      ".ocean{fill:#eef4fa}.land polygon{fill:#cfcfcf;stroke:#b5b5b5;stroke-width:.5}"
      ".water polygon{fill:#eef4fa;stroke:#b5b5b5;stroke-width:.5}"
      ".graticule line{stroke:#d6e2ee;stroke-width:.6}.graticule .equator{stroke:#bccfe2}"
      ".dot{stroke:#fff;stroke-width:1.5}"
      ".label{font-size:12px;fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px}"
      ".legend text{font-size:12px;fill:#222}.legend rect{fill:#fff;fill-opacity:.85}"
      "table{border-collapse:collapse;min-width:60%}"
      "th,td{text-align:left;padding:.3em .8em;border-bottom:1px solid #ddd}"
      "td.latency,td.lag,td.share,td.answers{text-align:right;font-variant-numeric:tabular-nums}"
      ".badge{display:inline-block;padding:0 .5em;border-radius:.7em;color:#fff}"
      "ul.addresses{list-style:none;margin:.2em 0 0;padding:0;font-size:.85em}"
      ".halo{fill:none;stroke-width:2.5}.leader{stroke:#555;stroke-width:1}.anchor{fill:#555}"
      ".catchment{fill-opacity:.4;stroke-width:1}.spoke{stroke-opacity:.3;stroke-width:1}"
      ".note{color:#555;font-size:.9em;margin:.4em 0 0;max-width:1000px}"
      ".swatch{display:inline-block;width:.8em;height:.8em;border-radius:50%;vertical-align:-.05em}"
      "ul.plain{list-style:none;margin:0;padding:0}td.weight{text-align:right}"
      ".spark{display:block}.spark .line{fill:none;stroke:#4e79a7;stroke-width:1.5}"
      ".spark .area{fill:#4e79a7;fill-opacity:.15}.spark .base{stroke:#ccc}"
      ".rate{margin:.2em 0}.axis{color:#777;font-size:.8em;margin:0}#current-rate{font-weight:bold}";
  auto add_state = [&](const StateStyle& style) {
    std::string name(style.name), colour(style.colour);
    css += ".dot.state-" + name + "{fill:" + colour + "}.badge.state-" + name +
           "{background:" + colour + "}";
  };
  for (const auto& style : kStates) add_state(style);
  add_state(kUnknownState);
  return css;
}

}  // namespace

std::string utc_time_text(int64_t unix_seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

std::string render_status_html(const StatusModel& model) {
  std::map<std::string_view, const MirrorStatus*> mirrors;
  for (const MirrorStatus& mirror : model.mirrors) mirrors.emplace(mirror.id, &mirror);

  std::string title = "geosteer " + html_escape(model.identity) + " (" +
                      html_escape(model.version) + ")";
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"refresh\" content=\"10\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>" + title + "</title>\n<style>" + style_sheet() + "</style>\n</head>\n<body>\n";
  page += "<h1 id=\"title\">" + title + "</h1>\n";
  page += "<p class=\"meta\" id=\"meta\">configuration generation <span id=\"generation\">" +
          std::to_string(model.generation) + "</span>, loaded " +
          readable_time_text(model.config_loaded_unix) + "; health probes <span id=\"probes\">" +
          (model.probes_enabled ? "enabled" : "disabled") + "</span>; answer shares over the last " +
          compact_duration(model.share_window_seconds) + "; page generated " +
          readable_time_text(model.now_unix) + ".</p>\n";
  page += world_map(model);
  page += "<p class=\"note\" id=\"map-note\">Each mirror has a colour, the ring around its "
          "marker; the dots in that colour are where the clients it was answered first to over "
          "the last " + compact_duration(model.share_window_seconds) +
          " were, by GeoIP, in cells of " + fixed_text(kCatchmentCellDegrees, 0) +
          "&#176;, larger for more answers. Mirrors at the same place are drawn side by side.</p>\n";
  page += query_rate_section(model);
  page += mirror_list(model);
  for (const ServiceStatus& service : model.services) {
    page += service_table(service, model, mirrors);
  }
  page += database_section(model);
  return page + "</body>\n</html>\n";
}

}  // namespace geosteer::metrics

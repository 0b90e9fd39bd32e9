#include "metrics/status_page.h"

#include <charconv>
#include <ctime>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

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

std::string utc_time_text(int64_t unix_seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

// For people: "2024-05-01 12:34:56 UTC".
std::string utc_time_text(int64_t unix_seconds) {
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

std::string mirror_dot(const MirrorStatus& mirror) {
  std::string id = html_escape(mirror.id);
  std::string state = std::string(state_class(mirror.state));
  std::string x = fixed_text(map_x(mirror.lon), 1);
  std::string y = fixed_text(map_y(mirror.lat), 1);
  std::string tooltip = mirror.id + ": " + mirror.state;
  if (!mirror.reason.empty()) tooltip += " (" + mirror.reason + ")";
  return "<g class=\"mirror\"><circle class=\"dot state-" + state + "\" data-mirror=\"" + id +
         "\" cx=\"" + x + "\" cy=\"" + y + "\" r=\"6\"><title>" + html_escape(tooltip) +
         "</title></circle><text class=\"label\" x=\"" + fixed_text(map_x(mirror.lon) + 9, 1) +
         "\" y=\"" + fixed_text(map_y(mirror.lat) + 4, 1) + "\">" + id + "</text></g>\n";
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
      "\" role=\"img\" aria-label=\"World map of the mirrors, coloured by state\">\n"
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
  svg += "</g>\n<g class=\"mirrors\">\n";
  for (const MirrorStatus& mirror : model.mirrors) svg += mirror_dot(mirror);
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
                 "\">" + utc_time_text(*mirror->last_transition_unix) + "</time> (" +
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

std::string style_sheet() {
  std::string css =
      "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
      "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
      ".meta{color:#555;margin:0 0 1em}"
      "#map{width:100%;max-width:1000px;height:auto;border:1px solid #ccc;display:block}"
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
      "ul.addresses{list-style:none;margin:.2em 0 0;padding:0;font-size:.85em}";
  auto add_state = [&](const StateStyle& style) {
    std::string name(style.name), colour(style.colour);
    css += ".dot.state-" + name + "{fill:" + colour + "}.badge.state-" + name +
           "{background:" + colour + "}";
  };
  for (const auto& style : kStates) add_state(style);
  add_state(kUnknownState);
  return css;
}

// ---- JSON ----------------------------------------------------------------------
// Keys stay in the order written (ordered_json), the order people read them in.
// Doubles are left as they are: dump() writes NaN and infinities as null.

using Json = nlohmann::ordered_json;

template <typename T>
Json or_null(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json json_address(const AddressStatus& address) {
  return {{"address", address.address}, {"state", address.state}, {"reason", address.reason}};
}

Json json_mirror(const MirrorStatus& mirror) {
  Json addresses = Json::array();
  for (const AddressStatus& address : mirror.addresses) addresses.push_back(json_address(address));
  return {{"id", mirror.id},
          {"url", mirror.url},
          {"lat", mirror.lat},
          {"lon", mirror.lon},
          {"state", mirror.state},
          {"reason", mirror.reason},
          {"latency_ms", or_null(mirror.latency_ms)},
          {"lag_seconds", or_null(mirror.lag_seconds)},
          {"last_transition_unix", or_null(mirror.last_transition_unix)},
          {"fresh", or_null(mirror.fresh)},
          {"probed", mirror.probed},
          {"flapping", mirror.flapping},
          {"addresses", std::move(addresses)}};
}

Json json_service(const ServiceStatus& service) {
  Json mirrors = Json::array();
  for (const ServiceMirrorStatus& entry : service.mirrors) {
    mirrors.push_back(
        {{"mirror", entry.mirror}, {"answer_share", entry.answer_share}, {"answers", entry.answers}});
  }
  return {{"name", service.name}, {"mirrors", std::move(mirrors)}};
}

}  // namespace

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
          utc_time_text(model.config_loaded_unix) + "; health probes <span id=\"probes\">" +
          (model.probes_enabled ? "enabled" : "disabled") + "</span>; answer shares over the last " +
          compact_duration(model.share_window_seconds) + "; page generated " +
          utc_time_text(model.now_unix) + ".</p>\n";
  page += world_map(model);
  for (const ServiceStatus& service : model.services) {
    page += service_table(service, model, mirrors);
  }
  return page + "</body>\n</html>\n";
}

nlohmann::ordered_json status_json(const StatusModel& model) {
  Json mirrors = Json::array();
  for (const MirrorStatus& mirror : model.mirrors) mirrors.push_back(json_mirror(mirror));
  Json services = Json::array();
  for (const ServiceStatus& service : model.services) services.push_back(json_service(service));
  return {{"identity", model.identity},
          {"version", model.version},
          {"generation", model.generation},
          {"config_loaded_unix", model.config_loaded_unix},
          {"now_unix", model.now_unix},
          {"share_window_seconds", model.share_window_seconds},
          {"probes_enabled", model.probes_enabled},
          {"mirrors", std::move(mirrors)},
          {"services", std::move(services)}};
}

std::string render_status_json(const StatusModel& model) {
  return status_json(model).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace geosteer::metrics

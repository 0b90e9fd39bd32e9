#include "common/dname.h"

#include <cctype>
#include <cstdio>

namespace geosteer::dname {

std::optional<std::string> from_text(std::string_view text, std::string_view origin_wire) {
  if (text == "@") {
    if (origin_wire.empty()) return std::nullopt;
    return lowercased(origin_wire);
  }
  if (text == ".") return std::string(1, '\0');
  if (text.empty()) return std::nullopt;
  std::string wire;
  std::string label;
  bool absolute = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (label.empty()) return std::nullopt;  // empty label ("a..b" or leading dot)
      if (label.size() > kMaxLabelLength) return std::nullopt;
      wire.push_back(static_cast<char>(label.size()));
      wire += label;
      label.clear();
      if (i + 1 == text.size()) absolute = true;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return std::nullopt;
      if (std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
        if (i + 3 >= text.size()) return std::nullopt;  // \DDD needs three digits
        int value = 0;
        for (int k = 1; k <= 3; ++k) {
          char d = text[i + k];
          if (!std::isdigit(static_cast<unsigned char>(d))) return std::nullopt;
          value = value * 10 + (d - '0');
        }
        if (value > 255) return std::nullopt;
        c = static_cast<char>(value);
        i += 3;
      } else {
        c = text[++i];
      }
    }
    label.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (!label.empty()) {
    if (label.size() > kMaxLabelLength) return std::nullopt;
    wire.push_back(static_cast<char>(label.size()));
    wire += label;
  }
  if (absolute) {
    wire.push_back('\0');
  } else {
    if (origin_wire.empty()) return std::nullopt;
    wire += lowercased(origin_wire);
  }
  if (wire.size() > kMaxWireLength) return std::nullopt;
  return wire;
}

std::string to_text(std::string_view wire) {
  if (wire.empty() || wire[0] == '\0') return ".";
  std::string out;
  size_t i = 0;
  while (i < wire.size() && wire[i] != '\0') {
    size_t length = static_cast<unsigned char>(wire[i]);
    for (size_t k = 1; k <= length && i + k < wire.size(); ++k) {
      unsigned char c = static_cast<unsigned char>(wire[i + k]);
      if (c == '.' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    i += length + 1;
  }
  return out;
}

void lowercase(char* wire, size_t length) {
  size_t i = 0;
  while (i < length && wire[i] != '\0') {
    size_t label = static_cast<unsigned char>(wire[i]);
    for (size_t k = 1; k <= label && i + k < length; ++k) {
      char& c = wire[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    i += label + 1;
  }
}

std::string lowercased(std::string_view wire) {
  std::string out(wire);
  lowercase(out.data(), out.size());
  return out;
}

bool is_subdomain(std::string_view name, std::string_view ancestor) {
  if (ancestor.size() > name.size()) return false;
  // Walk label boundaries of `name` until the remaining suffix has the ancestor's length.
  size_t i = 0;
  while (name.size() - i > ancestor.size()) {
    i += static_cast<unsigned char>(name[i]) + 1;
  }
  return name.size() - i == ancestor.size() && name.substr(i) == ancestor;
}

unsigned label_count(std::string_view wire) {
  unsigned count = 0;
  size_t i = 0;
  while (i < wire.size() && wire[i] != '\0') {
    ++count;
    i += static_cast<unsigned char>(wire[i]) + 1;
  }
  return count;
}

std::string_view parent(std::string_view wire) {
  if (wire.empty() || wire[0] == '\0') return wire;
  return wire.substr(static_cast<unsigned char>(wire[0]) + 1);
}

}  // namespace geosteer::dname

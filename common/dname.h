// Domain names in uncompressed wire format ("\x03www\x07example\x00"), the form in
// which zones store owners and the query path compares names. Canonical names are
// lower case (RFC 4034 section 6.2); comparisons here are on canonical names.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace geosteer::dname {

constexpr size_t kMaxWireLength = 255;
constexpr size_t kMaxLabelLength = 63;

// Presentation text ("www.example.org." or relative "www" under `origin`) to
// canonical wire form; "@" is the origin. Accepts \DDD and \X escapes.
// nullopt when the text is not a valid name or too long.
std::optional<std::string> from_text(std::string_view text, std::string_view origin_wire = {});

// Wire form to absolute presentation text with the trailing dot ("." for the root).
std::string to_text(std::string_view wire);

// ASCII lower-casing of a wire name, in place or into a copy.
void lowercase(char* wire, size_t length);
std::string lowercased(std::string_view wire);

// True when `name` equals `ancestor` or lies below it (both canonical wire names).
bool is_subdomain(std::string_view name, std::string_view ancestor);

// Number of labels, not counting the root.
unsigned label_count(std::string_view wire);

// The name with its first label removed; the root stays the root.
std::string_view parent(std::string_view wire);

}  // namespace geosteer::dname

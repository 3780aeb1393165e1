// lib/config/value.cc - see value.h.
#include "lib/config/value.h"

#include <limits>

#include "lib/base/strings.h"

namespace posthorn::config {

namespace {

bool is_list_sep(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

long long unit_seconds(char u) {
  switch (u) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
  }
}

std::string quoted(std::string_view v) { return cat("\"", printable(v), "\""); }

bool in_choices(std::string_view choices, std::string_view v) {
  for (const std::string& c : split(choices, '|'))
    if (c == v) return true;
  return false;
}

std::string choices_text(std::string_view choices) {
  std::vector<std::string> words;
  for (const std::string& c : split(choices, '|')) words.push_back(c.empty() ? "(empty)" : c);
  return join(words, ", ");
}

std::string show_bound(const Param& p, long long v) {
  return p.type == Type::time ? cat(v, "s") : cat(v);
}

std::string check_bounds(const Param& p, std::string_view text, long long v) {
  if (p.bounds.min && v < *p.bounds.min)
    return cat(quoted(text), " is below the minimum ", show_bound(p, *p.bounds.min));
  if (p.bounds.max && v > *p.bounds.max)
    return cat(quoted(text), " is above the maximum ", show_bound(p, *p.bounds.max));
  return {};
}

// A table is "type:name": a lower-case type word, a colon, a non-empty rest.
bool is_table(std::string_view s) {
  std::size_t colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == s.size()) return false;
  for (char c : s.substr(0, colon))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

std::string check_list(const Param& p, std::string_view value) {
  if (!braces_balanced(value)) return cat(quoted(value), " has an unbalanced \"{\" or \"}\"");
  for (const std::string& item : split_list(value)) {
    if (p.type == Type::table_list && !is_table(item))
      return cat(quoted(item), " is not a type:name lookup table");
    if (!p.choices.empty() && !in_choices(p.choices, item))
      return cat(quoted(item), " is not one of: ", choices_text(p.choices));
  }
  return {};
}

}  // namespace

bool parse_bool(std::string_view s, bool& out) {
  if (iequals(s, "yes")) return out = true, true;
  if (iequals(s, "no")) return out = false, true;
  return false;
}

bool parse_count(std::string_view s, long long& out) {
  unsigned long long v = 0;
  if (!parse_uint(s, v) || v > static_cast<unsigned long long>(std::numeric_limits<long long>::max()))
    return false;
  out = static_cast<long long>(v);
  return true;
}

bool parse_time(std::string_view s, char default_unit, long long& seconds) {
  char unit = default_unit;
  if (!s.empty() && unit_seconds(s.back()) != 0) {
    unit = s.back();
    s.remove_suffix(1);
  }
  long long n = 0, mult = unit_seconds(unit);
  if (mult == 0 || !parse_count(s, n)) return false;
  if (n > std::numeric_limits<long long>::max() / mult) return false;
  seconds = n * mult;
  return true;
}

char default_time_unit(const Param& p) {
  if (!p.def.empty() && unit_seconds(p.def.back()) != 0) return p.def.back();
  return 's';
}

std::string check_value(const Param& p, std::string_view value) {
  long long n = 0;
  bool b = false;
  switch (p.type) {
    case Type::string:
      if (!p.choices.empty() && !in_choices(p.choices, value))
        return cat(quoted(value), " is not one of: ", choices_text(p.choices));
      return {};
    case Type::boolean:
      return parse_bool(value, b) ? std::string() : cat(quoted(value), " is not yes or no");
    case Type::count:
      if (!parse_count(value, n)) return cat(quoted(value), " is not a number");
      return check_bounds(p, value, n);
    case Type::time:
      if (!parse_time(value, default_time_unit(p), n)) return cat(quoted(value), " is not a time");
      return check_bounds(p, value, n);
    case Type::size:
      if (!parse_count(value, n)) return cat(quoted(value), " is not a size in bytes");
      return check_bounds(p, value, n);
    case Type::list:
    case Type::table_list:
      return check_list(p, value);
  }
  return {};
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_list_sep(s[i])) ++i;
    if (i == s.size()) break;
    std::size_t j = i;
    int depth = 0;
    // A separator ends an element only outside braces.
    while (j < s.size() && (depth > 0 || !is_list_sep(s[j]))) {
      if (s[j] == '{') ++depth;
      else if (s[j] == '}' && depth > 0) --depth;
      ++j;
    }
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool braces_balanced(std::string_view s) {
  long depth = 0;
  for (char c : s) {
    if (c == '{') ++depth;
    else if (c == '}' && --depth < 0) return false;
  }
  return depth == 0;
}

bool is_param_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

}  // namespace posthorn::config

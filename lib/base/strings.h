// lib/base/strings.h - small string helpers shared by every module.
// All functions are ASCII-only on purpose: protocol keywords, parameter
// names and domains are compared in ASCII; UTF-8 passes through untouched.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace posthorn {

std::string_view trim(std::string_view s);  // spaces, tabs, CR, LF at both ends
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
// Splits on any of `seps`, dropping empty fields ("a, b,,c" on ", " -> a b c).
std::vector<std::string> split_fields(std::string_view s, std::string_view seps);
// Splits on exactly `sep`, keeping empty fields.
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// Parses a decimal unsigned number that must fill `s`; false on overflow or junk.
bool parse_uint(std::string_view s, unsigned long long& out);
// Makes text safe for a log line: control characters and bytes >= 0x7f become
// \ooo octal escapes, backslash becomes "\\". UTF-8 stays escaped too: log
// tools expect ASCII.
std::string printable(std::string_view s);

// Concatenates anything streamable to a std::string: cat("a=", 1, ", b=", x).
template <class... A>
std::string cat(const A&... a);

}  // namespace posthorn

#include <sstream>

namespace posthorn {
template <class... A>
std::string cat(const A&... a) {
  std::ostringstream os;
  (os << ... << a);
  return os.str();
}
}  // namespace posthorn

// smtp/content.cc - see content.h.
#include "smtp/content.h"

#include <algorithm>

namespace posthorn::smtp {

namespace {

std::string wire_lines(std::string_view m, std::size_t line_limit, bool dot_stuff) {
  std::string out;
  out.reserve(m.size() + m.size() / 50 + 8);
  bool line_start = true;
  std::size_t column = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const char c = m[i];
    if (dot_stuff && line_start && c == '.') out += '.', ++column;
    line_start = false;
    // Break before the octet that would pass the limit; never between the
    // CR and LF of a line end.
    if (line_limit > 0 && column >= line_limit && c != '\n' && !(c == '\r' && i + 1 < m.size() && m[i + 1] == '\n')) {
      out += "\r\n ";
      column = 1;
    }
    ++column;
    if (c == '\n') {
      column = 0;
      if (i == 0 || m[i - 1] != '\r') out += '\r';
      out += '\n';
      line_start = true;
      continue;
    }
    out += c;
  }
  if (!line_start) out += "\r\n";
  return out;
}

}  // namespace

std::string data_stream(std::string_view m, std::size_t line_limit) {
  return wire_lines(m, line_limit, true) + ".\r\n";
}

std::string chunk_stream(std::string_view m, std::size_t line_limit) { return wire_lines(m, line_limit, false); }

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 127; });
}

}  // namespace posthorn::smtp

// smtp/content.cc - see content.h.
#include "smtp/content.h"

#include <algorithm>

namespace posthorn::smtp {

std::string data_stream(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 50 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const char c = m[i];
    if (line_start && c == '.') out += '.';
    line_start = false;
    if (c == '\n') {
      if (i == 0 || m[i - 1] != '\r') out += '\r';
      out += '\n';
      line_start = true;
      continue;
    }
    out += c;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 127; });
}

}  // namespace posthorn::smtp

// pop3d/transfer.cc - see transfer.h.
#include "pop3d/transfer.h"

#include <cstring>

namespace posthorn::pop3d {

void append_transfer(std::string& out, std::string_view message,
                     std::optional<std::uint64_t> body_lines) {
  out.reserve(out.size() + message.size() + message.size() / 32 + 8);
  bool in_header = true;
  std::uint64_t left = body_lines.value_or(0);
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (body_lines && !in_header && left-- == 0) break;
    const char* base = message.data() + pos;
    const void* lf = std::memchr(base, '\n', message.size() - pos);
    std::size_t end = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - message.data())
                         : message.size();
    std::string_view line = message.substr(pos, end - pos);  // without the LF
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '.') out += '.';
    out.append(line);
    out += "\r\n";
    if (line.empty()) in_header = false;  // the empty line ends the header section
    pos = end + 1;
  }
  out += ".\r\n";
}

}  // namespace posthorn::pop3d

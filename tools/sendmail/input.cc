// tools/sendmail/input.cc - see input.h.
#include "tools/sendmail/input.h"

#include <unistd.h>

#include <cerrno>

#include "lib/base/strings.h"

namespace posthorn::sendmail {

bool InputReader::feed(std::string_view bytes) {
  if (done_) return true;
  std::size_t scan = out_.size();
  out_.append(bytes);
  for (std::size_t nl; (nl = out_.find('\n', scan)) != std::string::npos; scan = line_start_) {
    std::string_view line(out_.data() + line_start_, nl - line_start_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first_line_ && line.substr(0, 5) == "From ") {
      out_.erase(0, nl + 1);
      first_line_ = false;
      continue;
    }
    first_line_ = false;
    if (dot_ends_ && line == ".") {
      out_.resize(line_start_);
      done_ = true;
      return true;
    }
    line_start_ = nl + 1;
  }
  return false;
}

Result<std::string> read_message(int fd, bool dot_ends, std::size_t max_bytes) {
  InputReader r(dot_ends);
  std::string chunk(64 * 1024, '\0');
  while (!r.done()) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read standard input");
    if (n == 0) break;
    r.feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    if (max_bytes > 0 && r.message().size() > max_bytes)
      return make_error(Errc::too_large, cat("message larger than ", max_bytes, " bytes"));
  }
  return std::move(r.message());
}

}  // namespace posthorn::sendmail

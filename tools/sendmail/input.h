// tools/sendmail/input.h - reading the message sendmail is given.
//
// The message ends at end of input, or, unless -i/-oi was given, at a line
// that holds a single "." (ended by LF or CR LF), as sendmail has always
// done; nothing after that line is read. Lines are not otherwise changed:
// no dot-unstuffing (that is SMTP's, and sendmail input is not SMTP), line
// ends as given (cleanup makes them CR LF). A first line "From ..." (the mbox
// separator that some programs still write) is dropped, as Postfix does.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::sendmail {

class InputReader {
 public:
  explicit InputReader(bool dot_ends) : dot_ends_(dot_ends) {}
  // Takes the next bytes; returns true once the end line has been seen
  // (bytes after it are dropped; do not feed more).
  bool feed(std::string_view bytes);
  bool done() const { return done_; }
  // The message so far (complete once done() or at end of input).
  std::string& message() { return out_; }

 private:
  bool dot_ends_;
  bool done_ = false;
  bool first_line_ = true;
  std::string out_;
  std::size_t line_start_ = 0;  // start of the line being collected in out_
};

// Reads `fd` through an InputReader. Errc::too_large once the message is
// longer than `max_bytes` (0: no limit), Errc::io for a read error.
Result<std::string> read_message(int fd, bool dot_ends, std::size_t max_bytes);

}  // namespace posthorn::sendmail

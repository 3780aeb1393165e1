// smtp/reply.h - SMTP server replies as the client reads them (RFC 5321
// 4.2), and the EHLO keywords the client acts on.
//
// ReplyParser takes bytes as they arrive, in any split, and yields one Reply
// per complete multi-line reply ("250-a\r\n250 b\r\n"). A line is ended by
// LF (a CR before it is dropped), so a server that sends bare LF still
// works. Refusals: a line that does not start with three digits and a space
// or "-", a continuation line whose code differs from the first line's, and
// a reply longer than kMaxReply bytes are protocol errors (the session is
// then useless and is dropped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::smtp {

struct Reply {
  int code = 0;                    // 220, 250, 354, 421, 550, ...
  std::vector<std::string> lines;  // the text of each line, after "NNN-" / "NNN "
  // The RFC 3463 enhanced status code that leads the first line ("5.1.1"),
  // or "" when the server gave none.
  std::string enhanced;
  int klass() const { return code / 100; }  // 2, 3, 4, 5
  bool positive() const { return code >= 200 && code < 400; }
  // "550 5.1.1 No such user" - the lines joined with a space, for logs and
  // DSN texts (Postfix joins them the same way).
  std::string text() const;
  // enhanced when present, else class.0.0 (4.0.0, 5.0.0); "" for 2xx/3xx
  // without one gives 2.0.0.
  std::string dsn() const;
};

inline constexpr std::size_t kMaxReply = 64 * 1024;

class ReplyParser {
 public:
  // Adds bytes read from the server.
  void feed(std::string_view bytes);
  // The next complete reply, if one is buffered; Errc::protocol when the
  // buffered input breaks the grammar above.
  Result<std::optional<Reply>> next();
  // Bytes buffered beyond the replies taken so far.
  std::size_t pending() const { return buf_.size() - pos_; }
  void clear();

 private:
  std::string buf_;
  std::size_t pos_ = 0;
};

// What an EHLO reply offers (RFC 5321 4.1.1.1; keywords case-insensitive).
struct Extensions {
  bool esmtp = false;  // the EHLO was answered with 250
  bool pipelining = false;
  bool size = false;
  std::uint64_t size_limit = 0;  // SIZE's argument; 0 = none announced
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool starttls = false;
  bool chunking = false;  // BDAT (RFC 3030)
  std::vector<std::string> auth;  // mechanisms, upper case ("AUTH=" lines too)
  std::string server_name;        // the first word of the first line
};

// Reads the keywords of a 250 EHLO reply (a non-250 reply gives esmtp=false).
Extensions parse_ehlo(const Reply& r);

// Forgets the keywords in `discard` (lower case; smtp_discard_ehlo_keywords:
// "pipelining", "size", "8bitmime", "smtputf8", "dsn", "starttls", "auth",
// "chunking"; others, such as Postfix's "silent-discard", change nothing).
void discard_keywords(Extensions& e, const std::vector<std::string>& discard);

// The first word of a greeting or EHLO line ("mx.example.org ESMTP" ->
// "mx.example.org"), lower case.
std::string first_word(const Reply& r);

}  // namespace posthorn::smtp

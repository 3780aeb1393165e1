// smtp/reply.cc - see reply.h.
#include "smtp/reply.h"

#include <cctype>

#include "lib/base/strings.h"

namespace posthorn::smtp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "X.Y.Z" with X in 2,4,5, Y up to 3 digits, Z up to 3 digits (RFC 3463 2).
bool is_enhanced(std::string_view w) {
  if (w.size() < 5 || (w[0] != '2' && w[0] != '4' && w[0] != '5') || w[1] != '.') return false;
  std::size_t i = 2, n = 0;
  while (i < w.size() && is_digit(w[i])) ++i, ++n;
  if (n == 0 || n > 3 || i >= w.size() || w[i] != '.') return false;
  ++i;
  n = 0;
  while (i < w.size() && is_digit(w[i])) ++i, ++n;
  return n > 0 && n <= 3 && i == w.size();
}

}  // namespace

std::string Reply::text() const {
  std::string out = std::to_string(code);
  for (const std::string& l : lines) {
    out += ' ';
    out += l;
  }
  return out;
}

std::string Reply::dsn() const {
  if (!enhanced.empty() && enhanced[0] == static_cast<char>('0' + klass())) return enhanced;
  if (klass() == 4 || klass() == 5) return cat(klass(), ".0.0");
  return "2.0.0";
}

void ReplyParser::feed(std::string_view bytes) {
  // Drop what was consumed before growing, so the buffer stays one reply long.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.append(bytes);
}

void ReplyParser::clear() {
  buf_.clear();
  pos_ = 0;
}

Result<std::optional<Reply>> ReplyParser::next() {
  Reply r;
  std::size_t at = pos_;
  for (;;) {
    std::size_t nl = buf_.find('\n', at);
    if (nl == std::string::npos) {
      if (buf_.size() - pos_ > kMaxReply) return make_error(Errc::protocol, "server reply too long");
      return std::optional<Reply>{};
    }
    std::string_view line(buf_.data() + at, nl - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
      return make_error(Errc::protocol, cat("malformed server reply: ", printable(line.substr(0, 80))));
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r.lines.empty()) r.code = code;
    else if (code != r.code)
      return make_error(Errc::protocol, cat("server reply changes code mid-reply: ", printable(line.substr(0, 80))));
    r.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
    at = nl + 1;
    if (nl - pos_ > kMaxReply) return make_error(Errc::protocol, "server reply too long");
    if (line.size() == 3 || line[3] == ' ') break;
  }
  pos_ = at;
  std::string_view first = r.lines.front();
  std::string_view word = first.substr(0, first.find(' '));
  if (is_enhanced(word)) r.enhanced = std::string(word);
  return std::optional<Reply>(std::move(r));
}

Extensions parse_ehlo(const Reply& r) {
  Extensions e;
  if (r.code != 250) return e;
  e.esmtp = true;
  e.server_name = first_word(r);
  for (std::size_t i = 1; i < r.lines.size(); ++i) {
    std::vector<std::string> w = split_fields(r.lines[i], " \t=");
    if (w.empty()) continue;
    const std::string kw = to_lower(w[0]);
    if (kw == "pipelining") e.pipelining = true;
    else if (kw == "8bitmime") e.eight_bit_mime = true;
    else if (kw == "smtputf8") e.smtputf8 = true;
    else if (kw == "dsn") e.dsn = true;
    else if (kw == "starttls") e.starttls = true;
    else if (kw == "chunking") e.chunking = true;
    else if (kw == "size") {
      e.size = true;
      unsigned long long n = 0;
      if (w.size() > 1 && parse_uint(w[1], n)) e.size_limit = n;
    } else if (kw == "auth") {
      for (std::size_t k = 1; k < w.size(); ++k) {
        std::string m = w[k];
        for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        bool seen = false;
        for (const std::string& have : e.auth) seen = seen || have == m;
        if (!seen) e.auth.push_back(std::move(m));
      }
    }
  }
  return e;
}

void discard_keywords(Extensions& e, const std::vector<std::string>& discard) {
  for (const std::string& kw : discard) {
    if (kw == "pipelining") e.pipelining = false;
    else if (kw == "size") e.size = false, e.size_limit = 0;
    else if (kw == "8bitmime") e.eight_bit_mime = false;
    else if (kw == "smtputf8") e.smtputf8 = false;
    else if (kw == "dsn") e.dsn = false;
    else if (kw == "starttls") e.starttls = false;
    else if (kw == "auth") e.auth.clear();
    else if (kw == "chunking") e.chunking = false;
  }
}

std::string first_word(const Reply& r) {
  if (r.lines.empty()) return {};
  std::string_view l = r.lines.front();
  return to_lower(l.substr(0, l.find_first_of(" \t")));
}

}  // namespace posthorn::smtp

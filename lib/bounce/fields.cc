// lib/bounce/fields.cc - see fields.h.
#include "lib/bounce/fields.h"

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/mime/transfer.h"

namespace posthorn::bounce {
namespace {

constexpr std::size_t kFoldAt = 78;     // RFC 5322 2.1.1 "SHOULD"
constexpr std::size_t kHardLine = 990;  // below RFC 5322's 998 "MUST"

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7e;
  });
}

// RFC 5322 atext, which RFC 3461's addr-type (an atom) is made of.
bool is_atom(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
    if (!alnum && std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) == std::string_view::npos)
      return false;
    if (u >= 0x80) return false;
  }
  return true;
}

void append_code_point(std::string& out, char32_t cp) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string digits;
  for (char32_t v = cp; v != 0; v >>= 4) digits.insert(digits.begin(), kHex[v & 15]);
  while (digits.size() < 2) digits.insert(digits.begin(), '0');
  out += "\\x{" + digits + "}";
}

// Length of a "\x{HEX}" escape at s[i] (2 to 6 hex digits), 0 if none.
std::size_t escape_at(std::string_view s, std::size_t i) {
  if (s.substr(i, 3) != "\\x{") return 0;
  std::size_t j = i + 3;
  while (j < s.size() && j - (i + 3) <= 6 &&
         (is_digit(s[j]) || (s[j] >= 'A' && s[j] <= 'F')))
    ++j;
  std::size_t n = j - (i + 3);
  if (n < 2 || n > 6 || j >= s.size() || s[j] != '}') return 0;
  return j + 1 - i;
}

bool reply_code_at(std::string_view s) {
  return s.size() >= 3 && s[0] >= '2' && s[0] <= '5' && is_digit(s[1]) && is_digit(s[2]) &&
         (s.size() == 3 || s[3] == ' ' || s[3] == '-');
}

}  // namespace

std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = at(i);
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  std::size_t n;
  char32_t min;
  if (b >= 0xc2 && b <= 0xdf) n = 2, cp = b & 0x1f, min = 0x80;
  else if (b >= 0xe0 && b <= 0xef) n = 3, cp = b & 0x0f, min = 0x800;
  else if (b >= 0xf0 && b <= 0xf4) n = 4, cp = b & 0x07, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((at(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (at(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

std::string utf8_addr_encode(std::string_view addr, bool keep_utf8, bool keep_escapes) {
  std::string out;
  for (std::size_t i = 0; i < addr.size();) {
    auto c = static_cast<unsigned char>(addr[i]);
    if (keep_escapes)
      if (std::size_t e = escape_at(addr, i)) {
        out.append(addr.substr(i, e));
        i += e;
        continue;
      }
    if (c == 0) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      if (is_control(c) || c == ' ' || c == '+' || c == '=' || c == '\\') append_code_point(out, c);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    char32_t cp;
    std::size_t n = utf8_sequence(addr, i, cp);
    if (n == 0) {
      append_code_point(out, 0xfffd);
      ++i;
    } else {
      if (keep_utf8) out.append(addr.substr(i, n));
      else append_code_point(out, cp);
      i += n;
    }
  }
  return out;
}

std::string address_field(std::string_view addr, bool global) {
  if (printable_ascii(addr)) return cat("rfc822; ", addr);
  return "utf-8; " + utf8_addr_encode(addr, global);
}

std::string orcpt_field(std::string_view orcpt, bool global) {
  std::size_t semi = orcpt.find(';');
  if (semi == std::string_view::npos) return {};
  std::string_view type = trim(orcpt.substr(0, semi));
  std::string_view addr = trim(orcpt.substr(semi + 1));
  if (!is_atom(type) || addr.empty()) return {};
  if (iequals(type, "utf-8")) return "utf-8; " + utf8_addr_encode(addr, global, true);
  if (printable_ascii(addr)) return cat(type, "; ", addr);
  if (iequals(type, "rfc822")) return "utf-8; " + utf8_addr_encode(addr, global);
  return {};
}

bool valid_status(std::string_view s) {
  std::vector<std::string> parts = split(s, '.');
  if (parts.size() != 3 || parts[0].size() != 1) return false;
  if (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") return false;
  for (std::size_t k = 1; k < 3; ++k) {
    if (parts[k].empty() || parts[k].size() > 3) return false;
    if (!std::all_of(parts[k].begin(), parts[k].end(), is_digit)) return false;
  }
  return true;
}

Diagnostic diagnostic_code(std::string_view reason) {
  std::string_view r = trim(reason);
  if (reply_code_at(r)) return {"smtp", std::string(r)};
  if (istarts_with(r, "host ")) {
    std::size_t said = r.find(" said: ");
    if (said != std::string_view::npos) {
      std::string_view reply = trim(r.substr(said + 7));
      std::size_t in_reply = reply.rfind(" (in reply to ");
      if (in_reply != std::string_view::npos && reply.back() == ')')
        reply = trim(reply.substr(0, in_reply));
      if (reply_code_at(reply)) return {"smtp", std::string(reply)};
    }
  }
  return {"X-Posthorn", std::string(r)};
}

std::string remote_mta(std::string_view relay) {
  relay = trim(relay);
  if (relay.empty() || iequals(relay, "local") || iequals(relay, "none")) return {};
  std::size_t bracket = relay.find('[');
  std::string_view host = relay.substr(0, bracket);
  if ((host.empty() || iequals(host, "unknown")) && bracket != std::string_view::npos) {
    std::size_t close = relay.find(']', bracket);
    host = relay.substr(bracket, close == std::string_view::npos ? close : close + 1 - bracket);
  }
  std::string out;
  for (char c : host)
    if (static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f) out += c;
  return out;
}

std::string one_line(std::string_view s, bool utf8) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += is_control(c) ? ' ' : static_cast<char>(c);
      ++i;
      continue;
    }
    char32_t cp;
    std::size_t n = utf8_sequence(s, i, cp);
    if (n != 0 && utf8) out.append(s.substr(i, n));
    else out += '?';
    i += n == 0 ? 1 : n;
  }
  return std::string(trim(out));
}

std::string field(std::string_view name, std::string_view value) {
  std::string out = cat(name, ": ");
  const std::size_t start = out.size();
  std::size_t col = out.size();
  std::size_t i = 0;
  while (i < value.size()) {
    // The next chunk: a space (where a fold may go) and the word after it.
    std::size_t from = i;
    if (value[i] == ' ') ++i;
    std::size_t end = value.find(' ', i);
    if (end == std::string_view::npos) end = value.size();
    std::string_view chunk = value.substr(from, end - from);
    if (value[from] == ' ' && col > start && col + chunk.size() > kFoldAt) {
      out += "\r\n";
      col = 0;
    }
    while (col + chunk.size() > kHardLine) {
      std::size_t take = col < kHardLine ? kHardLine - col : 0;
      out.append(chunk.substr(0, take));
      out += "\r\n ";
      col = 1;
      chunk.remove_prefix(take);
    }
    out.append(chunk);
    col += chunk.size();
    i = end;
  }
  out += "\r\n";
  return out;
}

std::string wrap(std::string_view text, std::size_t width, std::string_view indent) {
  std::string out;
  std::size_t col = 0;
  bool line_has_word = false;
  for (const std::string& w : split_fields(text, " ")) {
    std::string_view word = w;
    if (line_has_word && col + 1 + word.size() > width) {
      out += "\r\n";
      out.append(indent);
      col = indent.size();
      line_has_word = false;
    }
    if (line_has_word) {
      out += ' ';
      ++col;
    }
    while (col + word.size() > kHardLine) {
      std::size_t take = col < kHardLine ? kHardLine - col : 0;
      out.append(word.substr(0, take));
      out += "\r\n";
      out.append(indent);
      col = indent.size();
      word.remove_prefix(take);
    }
    out.append(word);
    col += word.size();
    line_has_word = true;
  }
  out += "\r\n";
  return out;
}

std::string encode_header_text(std::string_view text, std::string_view charset) {
  if (!has_8bit(text)) return std::string(text);
  std::string cs = charset.empty() ? std::string("utf-8") : std::string(charset);
  bool utf8 = iequals(cs, "utf-8") || iequals(cs, "us-ascii");
  if (iequals(cs, "us-ascii")) cs = "utf-8";  // 8-bit text is not us-ascii
  // An encoded word is at most 75 characters (RFC 2047 2): "=?cs?B?" "?="
  // around base64 of at most 45 - len(cs) octets, which keeps it there.
  std::size_t room = cs.size() < 30 ? 45 - cs.size() : 15;
  room -= room % 3;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t end = std::min(text.size(), i + room);
    if (utf8) {  // never split a character between two words
      char32_t cp;
      std::size_t j = i;
      while (j < text.size()) {
        std::size_t n = utf8_sequence(text, j, cp);
        if (n == 0) n = 1;
        if (j + n > i + room && j > i) break;
        j += n;
      }
      end = j;
    }
    if (!out.empty()) out += ' ';
    out += cat("=?", cs, "?B?", mime::base64_encode(text.substr(i, end - i), ""), "?=");
    i = end;
  }
  return out;
}

bool valid_8bit(std::string_view s) {
  std::size_t line = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\0') return false;
    if (c == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') return false;
      ++i;
      line = 0;
      continue;
    }
    if (c == '\n') return false;
    if (++line > 998) return false;
  }
  return true;
}

std::string to_8bit_lines(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 64);
  std::size_t line = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\0') continue;
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      line = 0;
      continue;
    }
    if (line >= 998) {
      out += "\r\n ";
      line = 1;
    }
    out += c;
    ++line;
  }
  return out;
}

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace posthorn::bounce

// imapd/mailbox_name.cc - see mailbox_name.h.
#include "imapd/mailbox_name.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/mailstore/names.h"

namespace posthorn::imapd {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_value(char c) {
  std::size_t p = kAlphabet.find(c);
  return p == std::string_view::npos ? -1 : static_cast<int>(p);
}

void put_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Decodes one base64 run (between "&" and "-") to code points appended as
// UTF-8; false when it is malformed.
bool decode_run(std::string_view run, std::string& out) {
  std::vector<std::uint16_t> units;
  std::uint32_t bits = 0;
  int nbits = 0;
  for (char c : run) {
    int v = b64_value(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    nbits += 6;
    if (nbits >= 16) {
      nbits -= 16;
      units.push_back(static_cast<std::uint16_t>(bits >> nbits));
      bits &= (1u << nbits) - 1;
    }
  }
  if (nbits >= 6 || bits != 0 || units.empty()) return false;  // padding must be zero bits
  for (std::size_t i = 0; i < units.size(); ++i) {
    std::uint32_t u = units[i];
    if (u >= 0xd800 && u < 0xdc00) {
      if (i + 1 >= units.size() || units[i + 1] < 0xdc00 || units[i + 1] >= 0xe000) return false;
      u = 0x10000 + ((u - 0xd800) << 10) + (units[++i] - 0xdc00);
    } else if (u >= 0xdc00 && u < 0xe000) {
      return false;
    } else if (u >= 0x20 && u < 0x7f) {
      return false;  // printable ASCII represents itself
    }
    put_utf8(u, out);
  }
  return true;
}

// The next code point of UTF-8 text at `i`, or nullopt when malformed.
std::optional<std::uint32_t> next_code_point(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int len = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
  if (len < 0 || c >= 0xf8) return std::nullopt;
  std::uint32_t cp = c & (0x3f >> len);
  for (int k = 0; k < len; ++k) {
    if (i >= s.size()) return std::nullopt;
    auto d = static_cast<unsigned char>(s[i++]);
    if ((d & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (d & 0x3f);
  }
  static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return std::nullopt;
  return cp;
}

void encode_run(const std::vector<std::uint16_t>& units, std::string& out) {
  out += '&';
  std::uint32_t bits = 0;
  int nbits = 0;
  for (std::uint16_t u : units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += kAlphabet[(bits >> nbits) & 0x3f];
    }
    bits &= (1u << nbits) - 1;
  }
  if (nbits > 0) out += kAlphabet[(bits << (6 - nbits)) & 0x3f];
  out += '-';
}

}  // namespace

std::optional<std::string> mutf7_to_utf8(std::string_view name) {
  std::string out;
  bool after_run = false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    if (c != '&') {
      out += static_cast<char>(c);
      after_run = false;
      continue;
    }
    std::size_t end = name.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      out += '&';
      after_run = false;
    } else {
      // Two runs in a row must have been one (RFC 3501 5.1.3).
      if (after_run || !decode_run(name.substr(i + 1, end - i - 1), out)) return std::nullopt;
      after_run = true;
    }
    i = end;
  }
  return out;
}

bool valid_mutf7(std::string_view name) { return mutf7_to_utf8(name).has_value(); }

std::optional<std::string> utf8_to_mutf7(std::string_view name) {
  std::string out;
  std::vector<std::uint16_t> run;
  std::size_t i = 0;
  while (i < name.size()) {
    auto cp = next_code_point(name, i);
    if (!cp) return std::nullopt;
    if (*cp >= 0x20 && *cp < 0x7f) {
      if (!run.empty()) encode_run(run, out), run.clear();
      out += *cp == '&' ? std::string("&-") : std::string(1, static_cast<char>(*cp));
    } else if (*cp >= 0x10000) {
      std::uint32_t v = *cp - 0x10000;
      run.push_back(static_cast<std::uint16_t>(0xd800 + (v >> 10)));
      run.push_back(static_cast<std::uint16_t>(0xdc00 + (v & 0x3ff)));
    } else {
      run.push_back(static_cast<std::uint16_t>(*cp));
    }
  }
  if (!run.empty()) encode_run(run, out);
  return out;
}

Result<std::string> store_name(std::string_view imap_name, bool new_name) {
  std::string_view n = imap_name;
  if (n.size() > 1 && n.back() == kSeparator) n.remove_suffix(1);
  if (!valid_mutf7(n)) return make_error(Errc::invalid, "Mailbox name is not valid modified UTF-7");
  if (new_name && n.find_first_of("%*") != std::string_view::npos)
    return make_error(Errc::invalid, "Mailbox name may not contain wildcards");
  auto c = mailstore::canonical_folder_name(n);
  if (!c) return make_error(Errc::invalid, "Invalid mailbox name");
  return std::move(*c);
}

bool list_match(std::string_view pattern, std::string_view name) {
  if (pattern.size() > kMaxPattern) return false;
  std::string p(pattern);
  // "inbox" and "inbox.x" name INBOX and its children in any case.
  if (p.size() >= 5 && (p.size() == 5 || p[5] == kSeparator) &&
      p.compare(0, 5, "INBOX") != 0) {
    std::string head = p.substr(0, 5);
    for (char& ch : head)
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (head == "INBOX") p.replace(0, 5, "INBOX");
  }
  // prev[j]: pattern[0, i) matches name[0, j).
  std::vector<char> prev(name.size() + 1, 0), cur(name.size() + 1, 0);
  prev[0] = 1;
  for (char pc : p) {
    std::fill(cur.begin(), cur.end(), 0);
    if (pc == '*' || pc == '%') {
      cur[0] = prev[0];
      for (std::size_t j = 1; j <= name.size(); ++j)
        cur[j] = prev[j] || (cur[j - 1] && (pc == '*' || name[j - 1] != kSeparator));
    } else {
      for (std::size_t j = 1; j <= name.size(); ++j) cur[j] = prev[j - 1] && name[j - 1] == pc;
    }
    std::swap(prev, cur);
  }
  return prev[name.size()] != 0;
}

}  // namespace posthorn::imapd

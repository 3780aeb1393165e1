// lib/address/utf8.cc - see utf8.h.
#include "lib/address/utf8.h"

#include <cstddef>

namespace posthorn::address {
namespace {

// The length of the sequence that lead octet `c` starts, and the range its
// second octet must fall in (RFC 3629 section 4, UTF8-2/3/4); 0 when `c`
// cannot start a sequence.
struct Lead {
  int len;
  unsigned char lo, hi;
};

Lead lead_of(unsigned char c) {
  if (c >= 0xc2 && c <= 0xdf) return {2, 0x80, 0xbf};
  if (c == 0xe0) return {3, 0xa0, 0xbf};  // no overlongs
  if (c == 0xed) return {3, 0x80, 0x9f};  // no surrogates
  if (c >= 0xe1 && c <= 0xef) return {3, 0x80, 0xbf};
  if (c == 0xf0) return {4, 0x90, 0xbf};  // no overlongs
  if (c >= 0xf1 && c <= 0xf3) return {4, 0x80, 0xbf};
  if (c == 0xf4) return {4, 0x80, 0x8f};  // nothing above U+10FFFF
  return {0, 0, 0};
}

}  // namespace

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const Lead l = lead_of(c);
    if (l.len == 0 || s.size() - i < static_cast<std::size_t>(l.len)) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < l.lo || c1 > l.hi) return false;
    for (int k = 2; k < l.len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xbf) return false;
    }
    i += l.len;
  }
  return true;
}

bool has_non_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

}  // namespace posthorn::address

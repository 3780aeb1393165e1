// lib/address/xtext.cc - xtext and ORCPT (RFC 3461 sections 4 and 4.2),
// declared in path.h.
#include "lib/address/path.h"
#include "lib/address/syntax.h"

namespace posthorn::address {
namespace {

int hex_upper(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // RFC 3461 4: hexchar is upper case only
}

}  // namespace

Result<std::string> xtext_decode(std::string_view xtext) {
  std::string out;
  out.reserve(xtext.size());
  for (std::size_t i = 0; i < xtext.size(); ++i) {
    const char c = xtext[i];
    if (c == '+') {
      if (xtext.size() - i < 3) return make_address_error(Code::bad_xtext);
      const int hi = hex_upper(xtext[i + 1]), lo = hex_upper(xtext[i + 2]);
      if (hi < 0 || lo < 0) return make_address_error(Code::bad_xtext);
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c >= '!' && c <= '~' && c != '=') {
      out += c;
    } else {
      return make_address_error(Code::bad_xtext);
    }
  }
  return out;
}

std::string xtext_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < '!' || c > '~' || c == '+' || c == '=') {
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

Result<Orcpt> parse_orcpt(std::string_view value) {
  const std::size_t semi = value.find(';');
  if (semi == std::string_view::npos || semi == 0) return make_address_error(Code::bad_param);
  const std::string_view type = value.substr(0, semi);
  for (char c : type)
    if (!internal::is_atext(static_cast<unsigned char>(c))) return make_address_error(Code::bad_param);
  auto addr = xtext_decode(value.substr(semi + 1));
  if (!addr) return std::move(addr).error();
  // The original address goes into DSNs and logs; control octets in it can
  // only be an attack on those.
  for (char c : *addr)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return make_address_error(Code::bad_xtext);
  if (addr->empty()) return make_address_error(Code::bad_xtext);
  return Orcpt{std::string(type), std::move(*addr)};
}

}  // namespace posthorn::address

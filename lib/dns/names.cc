// lib/dns/names.cc - name checks, reverse names and TLSA names.
#include "lib/dns/names.h"

#include <arpa/inet.h>

#include "lib/base/strings.h"

namespace posthorn::dns {

namespace {
constexpr std::size_t kMaxName = 253;  // RFC 1035 2.3.4: 255 octets of wire form
constexpr std::size_t kMaxLabel = 63;

bool label_char_ok(unsigned char c) { return c > 0x20 && c < 0x7f && c != '\\'; }
}  // namespace

Result<std::string> normalize_name(std::string_view name) {
  if (name.empty()) return make_error(Errc::parse, "empty domain name");
  if (name == ".") return std::string();
  if (name.back() == '.') name.remove_suffix(1);
  if (name.size() > kMaxName) return make_error(Errc::parse, "domain name too long");
  std::size_t label = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0) return make_error(Errc::parse, "empty label in domain name");
      if (label > kMaxLabel) return make_error(Errc::parse, "label longer than 63 octets");
      label = 0;
      continue;
    }
    if (!label_char_ok(static_cast<unsigned char>(name[i])))
      return make_error(Errc::parse, "bad character in domain name: " + printable(name));
    ++label;
  }
  return to_lower(name);
}

Result<std::string> reverse_name(std::string_view ip) {
  std::string text(ip);
  in_addr v4;
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    auto* b = reinterpret_cast<const unsigned char*>(&v4);
    return cat(int(b[3]), '.', int(b[2]), '.', int(b[1]), '.', int(b[0]), ".in-addr.arpa");
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 15; i >= 0; --i) {
      unsigned char b = v6.s6_addr[i];
      out += kHex[b & 0xf];
      out += '.';
      out += kHex[b >> 4];
      out += '.';
    }
    return out + "ip6.arpa";
  }
  return make_error(Errc::parse, "not an IP address: " + printable(ip));
}

Result<std::string> tlsa_name(std::string_view host, unsigned port, std::string_view protocol) {
  auto h = normalize_name(host);
  if (!h) return h.error();
  if (port == 0 || port > 65535) return make_error(Errc::invalid, "bad port for TLSA name");
  return normalize_name(cat('_', port, "._", protocol, '.', *h));
}

}  // namespace posthorn::dns

// lib/dns/names.h - the names mail asks about: checked, reversed, prefixed.
//
// Mail lookups always use fully qualified names (RFC 5321 2.3.5): the
// resolver never applies resolv.conf "search"/"domain"/"ndots", so a name is
// asked exactly as given, with or without a trailing dot.
#pragma once

#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::dns {

// Checks that `name` can be asked and returns it in canonical form: lower
// case, without the trailing dot ("" is the root). Refused (Errc::parse):
// empty names, empty labels ("a..b"), labels over 63 octets, names over 253,
// spaces, control characters, backslashes and bytes >= 0x80 (U-labels must be
// converted to A-labels by the caller). Underscores are allowed (_25._tcp).
Result<std::string> normalize_name(std::string_view name);

// The PTR name for an address: "192.0.2.1" -> "1.2.0.192.in-addr.arpa",
// "2001:db8::1" -> "1.0.0.0....8.b.d.0.1.0.0.2.ip6.arpa" (RFC 3596 2.5, 32
// nibbles). An IPv4-mapped IPv6 address is reversed as IPv6. Errc::parse when
// `ip` is not a numeric address.
Result<std::string> reverse_name(std::string_view ip);

// The TLSA owner name of a service (RFC 6698 3): tlsa_name("mx.example", 25)
// -> "_25._tcp.mx.example". `host` is normalized; Errc::parse when it is bad.
Result<std::string> tlsa_name(std::string_view host, unsigned port = 25,
                              std::string_view protocol = "tcp");

}  // namespace posthorn::dns

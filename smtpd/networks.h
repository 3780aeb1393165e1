// smtpd/networks.h - mynetworks: is a client address in a list of networks?
//
// Accepts the forms of Postfix's mynetworks that name addresses: "a.b.c.d",
// "a.b.c.d/len", "[ipv6]", "[ipv6]/len" and "ipv6/len" without brackets.
// Refusals: host names, "/file/name" and "type:table" entries are not
// supported yet; parse_networks() reports them so the daemon refuses to start
// rather than trust less (or more) than the administrator wrote.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::smtpd {

struct Network {
  int family = 0;                      // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  // network address, host bits zero
  unsigned prefix = 0;                 // bits that must match
};

// Parses each entry. Errors: Errc::invalid naming the first bad entry.
Result<std::vector<Network>> parse_networks(const std::vector<std::string>& entries);

// True when `addr` (an IPv4 or IPv6 address as text; IPv4-mapped IPv6 counts
// as IPv4) lies in one of `nets`. A text that is no address matches nothing.
bool in_networks(const std::vector<Network>& nets, std::string_view addr);

}  // namespace posthorn::smtpd

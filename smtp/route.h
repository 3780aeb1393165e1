// smtp/route.h - from a next hop to the hosts and addresses to try, in
// order (RFC 5321 5.1, RFC 7505).
//
//   [host]:port, [address]    no MX lookup: the host's own addresses
//   host, host:port           MX records, lowest preference first, hosts of
//                             equal preference in random order; no MX
//                             record (NODATA): the host itself ("implicit
//                             MX"); "MX 0 ." alone: null MX, bounced 5.1.10
// An MX host that is this host (myhostname) is a loop: it and every MX with
// the same or a higher preference are dropped, and when that leaves nothing
// the mail bounces 5.4.6 "mail for X loops back to myself" (as Postfix).
// Addresses come from A and AAAA as inet_protocols allows, ordered by
// smtp_address_preference, at most smtp_mx_address_limit of them in all;
// through DNS, the system's name service (smtp_host_lookup = native:
// getaddrinfo, /etc/hosts), or DNS first and the system's name service when
// DNS finds no such host or address ("dns, native"), as Postfix. With
// smtp_dns_support_level = disabled there is no MX lookup and addresses are
// native. DNS outcomes map to delivery decisions: NXDOMAIN and "no address"
// are permanent (5.4.4), server failure and time-out temporary (4.4.3); MX
// hosts none of which has an address bounce 5.4.4 too, or defer 4.4.4 with
// smtp_defer_if_no_mx_address_found.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dns/answer.h"
#include "lib/dns/native.h"
#include "lib/resolve/resolve.h"

namespace posthorn::smtp {

struct Host {
  std::string name;  // the MX host name, or the literal address
  std::uint16_t preference = 0;
  std::vector<dns::Address> addresses;
};

struct RouteFailure {
  std::string dsn;   // 5.1.10, 5.4.4, 5.4.6, 4.4.3
  std::string text;
};

struct Route {
  std::vector<Host> hosts;  // only hosts with addresses, in the order to try
  std::optional<RouteFailure> failure;  // set when hosts is empty
};

enum class AddressPreference { any, ipv4, ipv6 };

struct RouteSettings {
  std::string myhostname;  // lower case
  bool ipv4 = true;        // inet_protocols
  bool ipv6 = true;
  AddressPreference preference = AddressPreference::any;
  unsigned address_limit = 5;  // smtp_mx_address_limit; 0 = none
  bool mx_lookup = true;       // smtp_dns_support_level is not "disabled"
  bool dns_hosts = true;       // smtp_host_lookup: "dns" (and mx_lookup)
  bool native_hosts = false;   //                   "native"
  bool defer_if_no_mx_address = false;  // smtp_defer_if_no_mx_address_found
};

using Lookup = std::function<dns::Answer(std::string_view name, dns::RrType type)>;

// The hosts to try for `hop`. `native` answers host lookups through the
// system's name service (lib/dns/native.h; tests substitute their own).
Route plan_route(const resolve::NextHop& hop, const RouteSettings& s, const Lookup& dns,
                 std::mt19937& rng, const Lookup& native = Lookup(dns::native_lookup));

// Sorts by preference and shuffles each run of equal preferences.
void order_mx(std::vector<dns::MxRecord>& mx, std::mt19937& rng);

// An IP address text as a dns::Address (port 0); nullopt when not one.
std::optional<dns::Address> literal_address(std::string_view text);

}  // namespace posthorn::smtp

// smtp/route.cc - see route.h.
#include "smtp/route.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "lib/base/strings.h"

namespace posthorn::smtp {

namespace {

RouteFailure dns_failure(const dns::Answer& a, std::string_view name) {
  const std::string head = cat("Host or domain name not found. Name service error for name=", name,
                               " type=", dns::type_name(a.type), ": ");
  if (dns::is_temporary(a.status)) return {"4.4.3", head + "Host not found, try again"};
  if (a.status == dns::Status::nodata) return {"5.4.4", head + "No address associated with hostname"};
  return {"5.4.4", head + "Host not found"};
}

struct Addresses {
  std::vector<dns::Address> list;
  std::optional<RouteFailure> failure;  // when list is empty
};

// One address lookup through DNS, the system's name service, or DNS and
// then the system's when DNS knows no such host or address.
dns::Answer lookup_host(std::string_view name, dns::RrType t, const RouteSettings& s, const Lookup& dns,
                        const Lookup& native) {
  dns::Answer a;
  if (s.dns_hosts) a = dns(name, t);
  if (s.native_hosts && (!s.dns_hosts || (!a.ok() && !dns::is_temporary(a.status)))) a = native(name, t);
  return a;
}

// A and AAAA of `name`, as inet_protocols and the preference say.
Addresses host_addresses(std::string_view name, const RouteSettings& s, const Lookup& dns, const Lookup& native) {
  if (auto lit = literal_address(name)) {
    Addresses out;
    if ((lit->family() == AF_INET && s.ipv4) || (lit->family() == AF_INET6 && s.ipv6)) out.list.push_back(*lit);
    else out.failure = RouteFailure{"5.4.4", cat("address ", name, " is of a protocol that inet_protocols excludes")};
    return out;
  }
  std::vector<dns::RrType> types;
  if (s.preference == AddressPreference::ipv4) types = {dns::RrType::a, dns::RrType::aaaa};
  else types = {dns::RrType::aaaa, dns::RrType::a};
  Addresses out;
  std::optional<RouteFailure> permanent, temporary;
  for (dns::RrType t : types) {
    if ((t == dns::RrType::a && !s.ipv4) || (t == dns::RrType::aaaa && !s.ipv6)) continue;
    dns::Answer a = lookup_host(name, t, s, dns, native);
    if (a.ok()) {
      out.list.insert(out.list.end(), a.addresses.begin(), a.addresses.end());
    } else if (dns::is_temporary(a.status)) {
      temporary = dns_failure(a, name);
    } else if (!permanent || a.status == dns::Status::nxdomain) {
      permanent = dns_failure(a, name);
    }
  }
  if (out.list.empty()) {
    out.failure = temporary ? temporary : permanent;
    if (!out.failure) out.failure = RouteFailure{"5.4.4", cat("no usable address for ", name)};
  }
  return out;
}

void add_host(Route& r, std::string name, std::uint16_t pref, std::vector<dns::Address> addrs,
              unsigned& budget, bool limited) {
  if (limited && budget == 0) return;
  if (limited && addrs.size() > budget) addrs.resize(budget);
  if (limited) budget -= static_cast<unsigned>(addrs.size());
  r.hosts.push_back({std::move(name), pref, std::move(addrs)});
}

}  // namespace

std::optional<dns::Address> literal_address(std::string_view text) {
  std::string t(text);
  if (istarts_with(t, "ipv6:")) t = t.substr(5);
  dns::Address a{};
  std::memset(&a.sockaddr, 0, sizeof a.sockaddr);
  auto* s4 = reinterpret_cast<sockaddr_in*>(&a.sockaddr);
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.sockaddr);
  if (inet_pton(AF_INET, t.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    a.sockaddr_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, t.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    a.sockaddr_len = sizeof(sockaddr_in6);
  } else {
    return std::nullopt;
  }
  a.text = t;
  return a;
}

void order_mx(std::vector<dns::MxRecord>& mx, std::mt19937& rng) {
  std::stable_sort(mx.begin(), mx.end(),
                   [](const dns::MxRecord& a, const dns::MxRecord& b) { return a.preference < b.preference; });
  for (auto it = mx.begin(); it != mx.end();) {
    auto end = std::find_if(it, mx.end(), [&](const dns::MxRecord& m) { return m.preference != it->preference; });
    std::shuffle(it, end, rng);
    it = end;
  }
}

Route plan_route(const resolve::NextHop& hop, const RouteSettings& s, const Lookup& dns, std::mt19937& rng,
                 const Lookup& native) {
  Route r;
  unsigned budget = s.address_limit;
  const bool limited = s.address_limit > 0;
  const std::string name = to_lower(hop.host);
  std::vector<dns::MxRecord> mx;
  if (hop.mx && s.mx_lookup && !literal_address(name)) {
    dns::Answer a = dns(name, dns::RrType::mx);
    if (a.status == dns::Status::null_mx) {
      r.failure = RouteFailure{"5.1.10", cat("Domain ", name, " does not accept mail (nullMX)")};
      return r;
    }
    if (a.ok()) mx = a.mx;
    else if (a.status != dns::Status::nodata) {
      r.failure = dns_failure(a, name);
      return r;
    }
  }
  const bool real_mx = !mx.empty();
  if (mx.empty()) mx.push_back({0, name});  // [host] or implicit MX (RFC 5321 5.1)
  order_mx(mx, rng);
  // A loop: drop this host and every MX not better than it.
  for (std::size_t i = 0; i < mx.size(); ++i) {
    if (to_lower(mx[i].exchange) != s.myhostname) continue;
    const std::uint16_t ours = mx[i].preference;
    std::erase_if(mx, [&](const dns::MxRecord& m) { return m.preference >= ours; });
    if (mx.empty()) {
      r.failure = RouteFailure{"5.4.6", cat("mail for ", name, " loops back to myself")};
      return r;
    }
    break;
  }
  std::optional<RouteFailure> temporary, permanent;
  for (const dns::MxRecord& m : mx) {
    if (m.exchange.empty()) continue;  // a stray "." among real MX records
    Addresses a = host_addresses(m.exchange, s, dns, native);
    if (a.list.empty()) {
      if (a.failure && a.failure->dsn[0] == '4') temporary = a.failure;
      else if (!permanent) permanent = a.failure;
      continue;
    }
    add_host(r, m.exchange, m.preference, std::move(a.list), budget, limited);
  }
  if (r.hosts.empty()) r.failure = temporary ? temporary : permanent;
  if (r.hosts.empty() && !r.failure) r.failure = RouteFailure{"5.4.4", cat("no usable MX host for ", name)};
  // MX records whose hosts have no address: a DNS mistake the domain's
  // owner may fix, so Postfix's smtp_defer_if_no_mx_address_found defers.
  if (r.failure && real_mx && s.defer_if_no_mx_address && r.failure->dsn[0] == '5')
    r.failure->dsn = "4.4.4";
  return r;
}

}  // namespace posthorn::smtp

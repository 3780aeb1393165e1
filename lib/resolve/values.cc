// lib/resolve/values.cc - the value syntax of resolve.h: transport values,
// next hops, virtual alias results, and the status of the special
// transports.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>

#include "lib/address/address.h"
#include "lib/base/strings.h"
#include "lib/resolve/resolve.h"

namespace posthorn::resolve {

std::string_view class_name(AddressClass c) {
  switch (c) {
    case AddressClass::local: return "local";
    case AddressClass::virtual_mailbox: return "virtual";
    case AddressClass::relay: return "relay";
    case AddressClass::default_: return "default";
    case AddressClass::virtual_alias: return "virtual alias";
  }
  return "?";
}

namespace {

bool is_service_char(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+';
}

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  return false;
}

Error parse_error(std::string what) { return make_error(Errc::parse, std::move(what)); }

bool is_ip(std::string_view text, int family) {
  std::string s(text);
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(family, s.c_str(), buf) == 1;
}

// A host name as the smtp client looks it up: LDH labels, folded.
Result<std::string> host_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host[0] == '[') return parse_error("empty host name");
  auto d = address::canonical_domain(host);
  if (!d) return parse_error(cat("bad host name \"", printable(host), "\""));
  return std::move(*d);
}

Result<std::string> port_of(std::string_view port) {
  if (port.empty()) return parse_error("empty port after ':'");
  unsigned long long n = 0;
  if (parse_uint(port, n)) {
    if (n < 1 || n > 65535) return parse_error(cat("port ", port, " is not 1-65535"));
    return std::to_string(n);
  }
  bool letter = false;
  for (unsigned char c : port) {
    if (!std::isalnum(c) && c != '-') return parse_error(cat("bad port \"", printable(port), "\""));
    letter = letter || std::isalpha(c);
  }
  if (!letter) return parse_error(cat("bad port \"", printable(port), "\""));
  return to_lower(port);
}

}  // namespace

Result<TransportValue> parse_transport_value(std::string_view value) {
  value = trim(value);
  std::size_t colon = value.find(':');
  TransportValue tv;
  tv.transport = std::string(trim(value.substr(0, colon)));
  if (colon != std::string_view::npos) tv.nexthop = std::string(trim(value.substr(colon + 1)));
  for (unsigned char c : tv.transport)
    if (!is_service_char(c))
      return parse_error(cat("transport \"", printable(tv.transport), "\" is not a service name"));
  if (has_control(tv.nexthop))
    return parse_error(cat("control character in next hop \"", printable(tv.nexthop), "\""));
  return tv;
}

Result<NextHop> parse_nexthop(std::string_view text) {
  text = trim(text);
  if (text.empty()) return parse_error("empty next hop");
  NextHop hop;
  std::string_view rest;
  if (text[0] == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return parse_error(cat("no ']' in \"", printable(text), "\""));
    std::string_view inner = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    hop.mx = false;
    bool tagged = istarts_with(inner, "ipv6:");
    if (tagged) inner.remove_prefix(5);
    if (is_ip(inner, AF_INET6) || (!tagged && is_ip(inner, AF_INET))) {
      hop.host = to_lower(inner);
    } else if (tagged) {
      return parse_error(cat("bad IPv6 address \"", printable(inner), "\""));
    } else {
      auto h = host_name(inner);
      if (!h) return std::move(h).error();
      hop.host = std::move(*h);
    }
    if (!rest.empty() && rest[0] != ':')
      return parse_error(cat("text after ']' in \"", printable(text), "\""));
  } else {
    if (text.find_first_of("[]") != std::string_view::npos)
      return parse_error(cat("unbalanced brackets in \"", printable(text), "\""));
    std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos)
      return parse_error(cat("an IPv6 address must be in brackets: \"[", printable(text), "]\""));
    std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) rest = text.substr(colon);
    if (is_ip(host, AF_INET))
      return parse_error(cat("an IP address must be in brackets: \"[", host, "]\""));
    auto h = host_name(host);
    if (!h) return std::move(h).error();
    hop.host = std::move(*h);
  }
  if (!rest.empty()) {
    auto p = port_of(rest.substr(1));
    if (!p) return std::move(p).error();
    hop.port = std::move(*p);
  }
  return hop;
}

Result<std::vector<NextHop>> parse_nexthop_list(std::string_view text) {
  std::vector<NextHop> out;
  for (const std::string& item : split_fields(text, ", \t")) {
    auto hop = parse_nexthop(item);
    if (!hop) return std::move(hop).error();
    out.push_back(std::move(*hop));
  }
  if (out.empty()) return parse_error("empty next hop list");
  return out;
}

Result<std::vector<std::string>> split_address_list(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '"') {
      // A quoted string stays whole, quotes and quoted pairs included.
      std::size_t j = i + 1;
      while (j < value.size() && value[j] != '"') j += value[j] == '\\' ? 2 : 1;
      if (j >= value.size()) return parse_error("unterminated quoted string");
      cur.append(value.substr(i, j + 1 - i));
      i = j;
    } else if (c == '<') {
      std::size_t close = value.find('>', i + 1);
      if (close == std::string_view::npos) return parse_error("'<' without '>'");
      flush();
      cur = std::string(trim(value.substr(i + 1, close - i - 1)));
      flush();
      i = close;
    } else if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  if (out.empty()) return parse_error("no address");
  return out;
}

bool is_special_transport(std::string_view transport) {
  return transport == "error" || transport == "retry" || transport == "discard";
}

namespace {

// The length of an RFC 3463 status "D.DDD.DDD" at the start of `s` that is
// followed by white space or the end, else 0.
std::size_t status_length(std::string_view s) {
  auto digits = [&](std::size_t& i, std::size_t most) {
    std::size_t start = i;
    while (i < s.size() && i - start < most && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  std::size_t i = 0;
  if (!digits(i, 1) || i >= s.size() || s[i++] != '.') return 0;
  if (!digits(i, 3) || i >= s.size() || s[i++] != '.') return 0;
  if (!digits(i, 3)) return 0;
  if (i < s.size() && s[i] != ' ' && s[i] != '\t') return 0;
  return i;
}

}  // namespace

Status special_status(const Destination& d) {
  char cls;
  if (d.transport == "error") cls = '5';
  else if (d.transport == "retry") cls = '4';
  else if (d.transport == "discard") cls = '2';
  else return {"", d.nexthop};
  std::string_view text = trim(d.nexthop);
  Status s;
  if (std::size_t n = status_length(text); n > 0) {
    s.dsn = std::string(text.substr(0, n));
    s.dsn[0] = cls;
    text = trim(text.substr(n));
  } else {
    s.dsn = std::string(1, cls) + ".0.0";
  }
  s.text = std::string(text);
  return s;
}

}  // namespace posthorn::resolve

// lib/dns/config.cc - resolv.conf and dns_nameservers parsing.
#include "lib/dns/config.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::dns {

namespace {
constexpr std::size_t kMaxResolvServers = 3;    // glibc MAXNS
constexpr unsigned long long kMaxTimeout = 30;  // glibc RES_MAXRETRANS
constexpr unsigned long long kMaxAttempts = 5;  // glibc RES_MAXRETRY

// Numeric address + port into a NameServer; never touches the network.
Result<NameServer> numeric_server(const std::string& host, unsigned port) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || res == nullptr)
    return make_error(Errc::parse, "not a numeric IP address: " + printable(host));
  NameServer ns;
  std::memcpy(&ns.addr, res->ai_addr, res->ai_addrlen);
  ns.addr_len = res->ai_addrlen;
  bool v6 = res->ai_family == AF_INET6;
  ::freeaddrinfo(res);
  ns.text = v6 ? cat('[', host, "]:", port) : cat(host, ':', port);
  return ns;
}

Result<unsigned> parse_port(std::string_view s) {
  unsigned long long p = 0;
  if (!parse_uint(s, p) || p == 0 || p > 65535)
    return make_error(Errc::parse, "bad port: " + printable(s));
  return static_cast<unsigned>(p);
}

// "timeout:N" / "attempts:N" into cfg; anything else is ignored on purpose.
void apply_option(std::string_view opt, Config& cfg, std::vector<std::string>& warnings,
                  const std::string& where) {
  auto colon = opt.find(':');
  std::string_view key = opt.substr(0, colon);
  if (key != "timeout" && key != "attempts") return;
  unsigned long long n = 0;
  if (colon == std::string_view::npos || !parse_uint(opt.substr(colon + 1), n)) {
    warnings.push_back(cat(where, "bad option ", printable(opt)));
    return;
  }
  if (key == "timeout")
    cfg.timeout = std::chrono::seconds(std::clamp(n, 1ull, kMaxTimeout));
  else
    cfg.attempts = static_cast<unsigned>(std::clamp(n, 1ull, kMaxAttempts));
}
}  // namespace

Result<NameServer> parse_nameserver(std::string_view entry, unsigned default_port) {
  entry = trim(entry);
  if (entry.empty()) return make_error(Errc::parse, "empty name server entry");
  if (entry.front() == '[') {  // [ipv6]:port or [ipv6]
    auto close = entry.find(']');
    if (close == std::string_view::npos)
      return make_error(Errc::parse, "missing ] in " + printable(entry));
    std::string host(entry.substr(1, close - 1));
    std::string_view rest = entry.substr(close + 1);
    if (host.find(':') == std::string::npos)
      return make_error(Errc::parse, "brackets need an IPv6 address: " + printable(entry));
    if (rest.empty()) return numeric_server(host, default_port);
    if (rest.front() != ':') return make_error(Errc::parse, "junk after ] in " + printable(entry));
    auto port = parse_port(rest.substr(1));
    if (!port) return port.error();
    return numeric_server(host, *port);
  }
  auto colon = entry.find(':');
  if (colon == std::string_view::npos) return numeric_server(std::string(entry), default_port);
  if (entry.find(':', colon + 1) != std::string_view::npos)  // bare IPv6
    return numeric_server(std::string(entry), default_port);
  auto port = parse_port(entry.substr(colon + 1));
  if (!port) return port.error();
  return numeric_server(std::string(entry.substr(0, colon)), *port);
}

Result<Config> config_from_list(std::string_view list) {
  Config cfg;
  for (const auto& entry : split_fields(list, ", \t\r\n")) {
    auto ns = parse_nameserver(entry);
    if (!ns) return make_error(Errc::parse, "dns_nameservers: " + ns.error().detail);
    cfg.servers.push_back(std::move(*ns));
  }
  if (cfg.servers.empty()) return make_error(Errc::invalid, "dns_nameservers: empty list");
  return cfg;
}

namespace {
// resolv.conf takes a bare address only ("1.2.3.4", "2001:db8::1",
// "fe80::1%eth0"); ports and brackets are our own list's extension.
Result<NameServer> parse_resolv_server(std::string_view word) {
  auto colons = std::count(word.begin(), word.end(), ':');
  if (word.find('[') != std::string_view::npos || colons == 1)
    return make_error(Errc::parse, "bad nameserver address " + printable(word));
  auto ns = parse_nameserver(word);
  if (!ns) return make_error(Errc::parse, "bad nameserver address " + printable(word));
  return ns;
}
}  // namespace

ResolvConf parse_resolv_conf(std::string_view text, std::string_view origin) {
  ResolvConf rc;
  std::size_t lineno = 0;
  for (const auto& line : split(text, '\n')) {
    ++lineno;
    std::string where = cat(origin, ':', lineno, ": ");
    auto words = split_fields(line.substr(0, line.find_first_of("#;")), " \t\r");
    if (words.empty()) continue;
    if (words[0] == "nameserver") {
      if (words.size() != 2) {
        rc.warnings.push_back(where + "nameserver needs one address");
      } else if (rc.config.servers.size() >= kMaxResolvServers) {
        rc.warnings.push_back(where + "more than 3 name servers, ignored");
      } else if (auto ns = parse_resolv_server(words[1]); !ns) {
        rc.warnings.push_back(where + ns.error().detail);
      } else {
        rc.config.servers.push_back(std::move(*ns));
      }
    } else if (words[0] == "options") {
      for (std::size_t i = 1; i < words.size(); ++i)
        apply_option(words[i], rc.config, rc.warnings, where);
    }
  }
  if (rc.config.servers.empty()) rc.config.servers.push_back(*parse_nameserver("127.0.0.1"));
  return rc;
}

Result<ResolvConf> load_resolv_conf(const std::filesystem::path& path) {
  auto text = read_file(path, 1u << 20);
  if (!text) return text.error();
  return parse_resolv_conf(*text, path.string());
}

}  // namespace posthorn::dns

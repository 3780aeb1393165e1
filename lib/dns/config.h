// lib/dns/config.h - which name servers to ask, how long and how often.
//
// Two sources:
//  - /etc/resolv.conf (the default): "nameserver ADDR" lines (at most 3 are
//    used, as glibc does) and "options timeout:N attempts:N". Lines are read
//    with glibc's leniency: a line we cannot use is skipped with a warning,
//    because a system file we do not own must not stop mail. "search",
//    "domain", "ndots" and the other options are NOT applied: mail names are
//    fully qualified (RFC 5321 2.3.5) and asked exactly as given. With no
//    usable nameserver line, 127.0.0.1:53 is used, as glibc does.
//  - an explicit list, the `dns_nameservers` parameter: "ip[:port]" and
//    "[ipv6]:port" (a bare IPv6 address takes port 53), separated by commas
//    or white space. Here a bad entry is an error: it is our configuration.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::dns {

struct NameServer {
  sockaddr_storage addr{};  // numeric address with its port
  socklen_t addr_len = 0;
  std::string text;  // "192.0.2.53:53", "[2001:db8::53]:53", for logs
};

struct Config {
  std::vector<NameServer> servers;
  // Wait for each try; a try asks one server. resolv.conf "timeout:" (seconds).
  std::chrono::milliseconds timeout{5000};
  // Rounds over all servers; resolv.conf "attempts:". Tries = attempts * servers.
  unsigned attempts = 2;
  // EDNS0 payload size we advertise (RFC 6891); 1232 avoids IP fragmentation.
  std::uint16_t edns_size = 1232;
  // Send the DO bit (RFC 3225) so a validating resolver reports AD (RFC 4035 3.2.3).
  bool dnssec_ok = true;
};

// One "ip[:port]" / "[ipv6]:port" / "ipv6" entry; Errc::parse when bad.
// Only numeric addresses: no name is looked up to find a name server.
Result<NameServer> parse_nameserver(std::string_view entry, unsigned default_port = 53);

// The `dns_nameservers` list; Errc::parse naming the bad entry, Errc::invalid
// when the list is empty. Timeouts and attempts keep their defaults.
Result<Config> config_from_list(std::string_view list);

struct ResolvConf {
  Config config;
  std::vector<std::string> warnings;  // "resolv.conf:3: ...", for the log
};

// Parses resolv.conf text (see above); `origin` names the file in warnings.
// Never fails: unusable lines become warnings.
ResolvConf parse_resolv_conf(std::string_view text, std::string_view origin = "resolv.conf");

// Reads and parses a resolv.conf file; only a read error fails (Errc::io,
// Errc::not_found). A missing /etc/resolv.conf is what the caller decides on.
Result<ResolvConf> load_resolv_conf(const std::filesystem::path& path = "/etc/resolv.conf");

}  // namespace posthorn::dns

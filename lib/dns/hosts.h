// lib/dns/hosts.h - the hosts file (/etc/hosts), as the system's resolver
// reads it before asking DNS.
//
// Purpose:    smtpd names its clients with asynchronous DNS queries
//             (smtpd/peername.h), which skip the C library and so the hosts
//             file; Postfix's gethostbyaddr() reads it first, so that
//             127.0.0.1 is "localhost" without a DNS server. HostsFile gives
//             the asynchronous path the same first step.
// Format:     hosts(5): an address, then the canonical name and aliases,
//             separated by blanks; "#" starts a comment; lines that do not
//             parse are skipped, as the C library skips them.
// Guarantees: addresses are compared as binary (so "::1" and
//             "0:0:0:0:0:0:0:1" are one address), names without regard to
//             case; a missing or unreadable file is an empty table.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::dns {

class HostsFile {
 public:
  static HostsFile parse(std::string_view text);
  // Reads `path` now; the table does not follow later changes.
  static HostsFile load(const std::filesystem::path& path = "/etc/hosts");

  // The canonical name of the first line that lists `addr` (lower case),
  // or nothing.
  std::optional<std::string> name_of(std::string_view addr) const;
  // Whether a line lists `name` (canonical or alias) with `addr`.
  bool has(std::string_view name, std::string_view addr) const;
  bool empty() const { return by_addr_.empty(); }

 private:
  std::map<std::string, std::string> by_addr_;                // address key -> first name
  std::map<std::string, std::vector<std::string>> by_name_;  // name -> address keys
};

// The binary form of a textual IPv4 or IPv6 address, as a string key (4 or
// 16 bytes), or nothing when `addr` is not an address.
std::optional<std::string> address_key(std::string_view addr);

}  // namespace posthorn::dns

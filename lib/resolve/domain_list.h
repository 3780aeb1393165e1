// lib/resolve/domain_list.h - the pieces behind Resolver (internal to
// lib/resolve): the tables it opened, Postfix's domain match lists, and this
// host's interface addresses.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/maps/address_lookup.h"
#include "lib/maps/table.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::resolve::detail {

// Every table a Resolver uses, each spec opened once however many
// parameters name it (virtual_alias_domains defaults to the tables of
// virtual_alias_maps). Users hold indexes, which stay valid across
// refresh().
class TableSet {
 public:
  // Opens `spec` (or finds it open). Errors: open_table's, the detail
  // prefixed with "PARAM: ".
  Result<std::size_t> open(std::string_view spec, std::string_view param);
  const maps::Table& operator[](std::size_t i) const { return *tables_[i].table; }
  std::size_t size() const { return tables_.size(); }
  // The parameter that first named table i, for messages.
  const std::string& param(std::size_t i) const { return tables_[i].param; }
  // See Resolver::refresh().
  Result<int> refresh();

 private:
  struct Entry {
    std::unique_ptr<maps::Table> table;
    std::string param;
  };
  std::vector<Entry> tables_;
};

// A domain in the form lists and tables compare: lower case, one trailing
// dot dropped ("Example.COM." -> "example.com").
std::string fold_domain(std::string_view domain);

// True when `param` is listed in parent_domain_matches_subdomains.
bool parent_matches_subdomains(const config::Config& cfg, std::string_view param);

// A Postfix match list of domains (mydestination, relay_domains, ...):
//   name          the domain itself (and, with parent style, its subdomains)
//   .name         the subdomains of name
//   type:name     a table: the domain, then each parent (".parent", or
//                 "parent" with parent style); the value is not used
//   !pattern      a match of pattern ends the search with "no"
//   /file         the patterns in the file (white space or commas between
//                 them, "#" comments); a file may not name another file
// The first pattern that matches decides; no match is "no".
class DomainList {
 public:
  // Reads the list `param` of `cfg`, opening its tables in `tables`.
  // Errors: a table that does not open, a pattern file that cannot be read
  // or that names another file (Errc::invalid), each naming `param`.
  static Result<DomainList> from_config(const config::Config& cfg, std::string_view param,
                                        TableSet& tables);
  // The same from a list of patterns (tests, and from_config itself).
  static Result<DomainList> parse(const std::vector<std::string>& patterns,
                                  std::string_view param, bool parent_style, TableSet& tables);

  // `domain` as fold_domain() makes it. Errors: a table lookup error, the
  // detail naming the parameter and the table.
  Result<bool> match(std::string_view domain, const TableSet& tables) const;
  bool empty() const { return patterns_.empty(); }
  const std::string& param() const { return param_; }

 private:
  struct Pattern {
    std::string text;       // literal: folded; ".name" keeps its dot
    std::size_t table = 0;  // when is_table
    bool is_table = false;
    bool negate = false;
  };
  Result<void> add(std::string_view word, TableSet& tables, bool from_file);
  bool literal_match(const Pattern& p, std::string_view domain) const;

  std::vector<Pattern> patterns_;
  std::string param_;
  bool parent_style_ = false;
};

// The addresses of inet_interfaces and proxy_interfaces, for "[address]"
// recipient domains. "all" is every address on this host's interfaces
// (getifaddrs, read once), "loopback-only" 127.0.0.1 and ::1; host names
// are looked up once with getaddrinfo.
class LocalAddresses {
 public:
  // Errors: an entry that is neither an address nor a host name
  // (Errc::invalid), a host name that does not resolve (Errc::not_found),
  // getifaddrs failing (Errc::io), each naming the parameter.
  static Result<LocalAddresses> from_config(const config::Config& cfg);
  // Adds the addresses one list entry stands for (tests use it directly).
  Result<void> add(std::string_view entry, std::string_view param);
  // `literal` is a folded domain; true when it is "[addr]" or
  // "[ipv6:addr]" and addr is one of ours. IPv4 and IPv4-mapped IPv6
  // compare equal.
  bool contains(std::string_view literal) const;

 private:
  using Bytes = std::array<unsigned char, 16>;  // IPv4 as IPv4-mapped IPv6
  std::vector<Bytes> addrs_;
};

}  // namespace posthorn::resolve::detail

// lib/resolve/domain_list.cc - see domain_list.h.
#include "lib/resolve/domain_list.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "lib/address/address.h"
#include "lib/base/fd.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"

namespace posthorn::resolve::detail {

// --- TableSet ----------------------------------------------------------------

Result<std::size_t> TableSet::open(std::string_view spec, std::string_view param) {
  for (std::size_t i = 0; i < tables_.size(); ++i)
    if (tables_[i].table->spec() == spec) return i;
  auto t = maps::open_table(spec);
  if (!t) {
    Error e = std::move(t).error();
    e.detail = cat(param, ": ", e.detail);
    return e;
  }
  tables_.push_back({std::move(*t), std::string(param)});
  return tables_.size() - 1;
}

Result<int> TableSet::refresh() {
  int reopened = 0;
  std::string errors;
  Errc code = Errc::io;
  for (Entry& e : tables_) {
    if (!e.table->changed()) continue;
    auto t = maps::open_table(e.table->spec());
    if (!t) {
      if (errors.empty()) code = t.error().code;
      if (!errors.empty()) errors += "; ";
      errors += cat(e.param, ": ", t.error().detail);
      continue;
    }
    e.table = std::move(*t);
    ++reopened;
  }
  if (!errors.empty()) return make_error(code, errors);
  return reopened;
}

// --- domains -----------------------------------------------------------------

std::string fold_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return to_lower(domain);
}

bool parent_matches_subdomains(const config::Config& cfg, std::string_view param) {
  for (const std::string& p : cfg.get_list("parent_domain_matches_subdomains"))
    if (iequals(p, param)) return true;
  return false;
}

namespace {

// Table specs have a colon; "[::1]" is an address literal, not a table.
bool is_table_spec(std::string_view word) {
  return !word.empty() && word[0] != '[' && word.find(':') != std::string_view::npos;
}

// The patterns of a "/file": words separated by white space or commas,
// "#" to the end of a line a comment.
std::vector<std::string> file_patterns(std::string_view text) {
  std::vector<std::string> out;
  for (const std::string& line : split(text, '\n')) {
    std::string_view l = line;
    if (std::size_t hash = l.find('#'); hash != std::string_view::npos) l = l.substr(0, hash);
    for (std::string& w : split_fields(l, ", \t\r")) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

Result<DomainList> DomainList::from_config(const config::Config& cfg, std::string_view param,
                                           TableSet& tables) {
  return parse(cfg.get_list(param), param, parent_matches_subdomains(cfg, param), tables);
}

Result<DomainList> DomainList::parse(const std::vector<std::string>& patterns,
                                     std::string_view param, bool parent_style,
                                     TableSet& tables) {
  DomainList list;
  list.param_ = std::string(param);
  list.parent_style_ = parent_style;
  for (const std::string& w : patterns)
    if (auto r = list.add(w, tables, false); !r) return std::move(r).error();
  return list;
}

Result<void> DomainList::add(std::string_view word, TableSet& tables, bool from_file) {
  if (word.empty()) return {};
  if (word[0] == '/') {
    if (from_file)
      return make_error(Errc::invalid, cat(param_, ": pattern file names another file: ", word));
    auto text = read_file(std::string(word), 16u << 20);
    if (!text) return make_error(text.error().code, cat(param_, ": ", text.error().detail));
    for (const std::string& w : file_patterns(*text))
      if (auto r = add(w, tables, true); !r) return r;
    return {};
  }
  Pattern p;
  if (word[0] == '!') {
    p.negate = true;
    word.remove_prefix(1);
    if (word.empty()) return make_error(Errc::invalid, cat(param_, ": \"!\" without a pattern"));
  }
  if (is_table_spec(word)) {
    auto i = tables.open(word, param_);
    if (!i) return std::move(i).error();
    p.is_table = true;
    p.table = *i;
  } else {
    p.text = fold_domain(word);
  }
  patterns_.push_back(std::move(p));
  return {};
}

bool DomainList::literal_match(const Pattern& p, std::string_view domain) const {
  std::string_view pat = p.text;
  if (domain == pat) return true;
  if (pat.empty()) return false;
  // ".name" matches strictly below name.
  if (pat[0] == '.') return domain.size() > pat.size() && domain.ends_with(pat);
  // With parent style a plain "name" does too.
  return parent_style_ && domain.size() > pat.size() + 1 && domain.ends_with(pat) &&
         domain[domain.size() - pat.size() - 1] == '.';
}

Result<bool> DomainList::match(std::string_view domain, const TableSet& tables) const {
  for (const Pattern& p : patterns_) {
    bool hit;
    if (p.is_table) {
      auto r = maps::lookup_domain(tables[p.table], domain,
                                   parent_style_ ? maps::ParentStyle::bare : maps::ParentStyle::dot);
      if (!r)
        return make_error(r.error().code,
                          cat(param_, ": ", tables[p.table].spec(), ": ", r.error().detail));
      hit = r->has_value();
    } else {
      hit = literal_match(p, domain);
    }
    if (hit) return !p.negate;
  }
  return false;
}

// --- LocalAddresses ----------------------------------------------------------

namespace {

using Bytes = std::array<unsigned char, 16>;

Bytes mapped(const in_addr& a) {
  Bytes b{};
  b[10] = b[11] = 0xff;
  std::memcpy(b.data() + 12, &a, 4);
  return b;
}

Bytes bytes6(const in6_addr& a) {
  Bytes b{};
  std::memcpy(b.data(), &a, 16);
  return b;
}

// An IP address in text ("192.0.2.1", "2001:db8::1"), or nothing.
bool parse_ip(std::string_view text, Bytes& out) {
  std::string s(text);
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    out = mapped(a4);
    return true;
  }
  if (::inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    out = bytes6(a6);
    return true;
  }
  return false;
}

void add_sockaddr(const sockaddr* sa, std::vector<Bytes>& out) {
  if (sa == nullptr) return;
  if (sa->sa_family == AF_INET)
    out.push_back(mapped(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr));
  else if (sa->sa_family == AF_INET6)
    out.push_back(bytes6(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr));
}

}  // namespace

Result<void> LocalAddresses::add(std::string_view entry, std::string_view param) {
  if (iequals(entry, "all")) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
      Error e = sys_error("getifaddrs");
      e.detail = cat(param, ": ", e.detail);
      return e;
    }
    Owned<ifaddrs, ::freeifaddrs> owned(list);
    for (ifaddrs* i = list; i; i = i->ifa_next) add_sockaddr(i->ifa_addr, addrs_);
    return {};
  }
  if (iequals(entry, "loopback-only")) {
    Bytes b;
    for (const char* ip : {"127.0.0.1", "::1"})
      if (parse_ip(ip, b)) addrs_.push_back(b);
    return {};
  }
  std::string_view host = entry;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  Bytes b;
  if (parse_ip(host, b)) {
    addrs_.push_back(b);
    return {};
  }
  // Only a well-formed host name goes to the resolver.
  if (!address::canonical_domain(host) || host[0] == '[')
    return make_error(Errc::invalid,
                      cat(param, ": \"", printable(entry), "\" is not an address or host name"));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string name(host);
  if (int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res); rc != 0)
    return make_error(Errc::not_found, cat(param, ": ", name, ": ", ::gai_strerror(rc)));
  Owned<addrinfo, ::freeaddrinfo> owned(res);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) add_sockaddr(ai->ai_addr, addrs_);
  return {};
}

Result<LocalAddresses> LocalAddresses::from_config(const config::Config& cfg) {
  LocalAddresses la;
  for (std::string_view param : {"inet_interfaces", "proxy_interfaces"})
    for (const std::string& entry : cfg.get_list(param))
      if (auto r = la.add(entry, param); !r) return std::move(r).error();
  std::sort(la.addrs_.begin(), la.addrs_.end());
  la.addrs_.erase(std::unique(la.addrs_.begin(), la.addrs_.end()), la.addrs_.end());
  return la;
}

bool LocalAddresses::contains(std::string_view literal) const {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  std::string_view inner = literal.substr(1, literal.size() - 2);
  // RFC 5321 4.1.3: IPv6 literals carry the tag, IPv4 ones do not.
  const bool v6 = istarts_with(inner, "ipv6:");
  if (v6) inner.remove_prefix(5);
  Bytes b;
  if (!parse_ip(inner, b) || v6 == (inner.find(':') == std::string_view::npos)) return false;
  return std::find(addrs_.begin(), addrs_.end(), b) != addrs_.end();
}

}  // namespace posthorn::resolve::detail

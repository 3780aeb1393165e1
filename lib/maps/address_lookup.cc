// lib/maps/address_lookup.cc - see address_lookup.h.
#include "lib/maps/address_lookup.h"

#include <vector>

namespace posthorn::maps {

namespace {

struct Split {
  std::string user;       // without extension
  std::string extension;  // without the delimiter; "" = none
  std::string full_local;
  std::string domain;
  bool has_domain = false;
};

Split split_address(std::string_view address, std::string_view delimiters) {
  Split s;
  std::size_t at = address.rfind('@');
  s.has_domain = at != std::string_view::npos;
  s.full_local = std::string(address.substr(0, at));
  if (s.has_domain) s.domain = std::string(address.substr(at + 1));
  s.user = s.full_local;
  std::size_t d = delimiters.empty() ? std::string_view::npos
                                     : s.full_local.find_first_of(delimiters);
  // A local part that starts with the delimiter has no user to fall back to.
  if (d != std::string::npos && d > 0) {
    s.user = s.full_local.substr(0, d);
    s.extension = s.full_local.substr(d + 1);
  }
  return s;
}

struct Form {
  std::string key;
  bool drops_extension;
};

std::vector<Form> forms(std::string_view address, const AddressLookup& how, bool pattern) {
  if (pattern) return {{std::string(address), false}};
  Split s = split_address(address, how.recipient_delimiter);
  bool split = s.user != s.full_local;
  bool local = !s.has_domain || (how.is_local && how.is_local(s.domain));
  std::vector<Form> out;
  if (s.has_domain && !s.full_local.empty()) {
    out.push_back({s.full_local + "@" + s.domain, false});
    if (split) out.push_back({s.user + "@" + s.domain, true});
  }
  if (local && !s.full_local.empty()) {
    out.push_back({s.full_local, false});
    if (split) out.push_back({s.user, true});
  }
  if (s.has_domain && !s.domain.empty()) out.push_back({"@" + s.domain, false});
  return out;
}

}  // namespace

std::vector<std::string> address_keys(std::string_view address, const AddressLookup& how,
                                      bool pattern_table) {
  std::vector<std::string> keys;
  for (Form& f : forms(address, how, pattern_table)) keys.push_back(std::move(f.key));
  return keys;
}

Result<std::optional<AddressMatch>> lookup_address(const Table& table, std::string_view address,
                                                   const AddressLookup& how) {
  std::string extension = split_address(address, how.recipient_delimiter).extension;
  for (Form& f : forms(address, how, table.is_pattern())) {
    auto r = table.lookup(f.key);
    if (!r) return std::move(r).error();
    if (*r)
      return std::optional<AddressMatch>(
          AddressMatch{std::move(**r), std::move(f.key), f.drops_extension ? extension : ""});
  }
  return std::optional<AddressMatch>();
}

Result<std::optional<DomainMatch>> lookup_domain(const Table& table, std::string_view domain,
                                                 ParentStyle style) {
  std::vector<std::string> keys{std::string(domain)};
  if (!table.is_pattern()) {
    for (std::size_t dot = domain.find('.'); dot != std::string_view::npos;
         dot = domain.find('.', dot + 1)) {
      std::string_view parent = domain.substr(dot + 1);
      if (parent.empty()) break;
      keys.push_back(style == ParentStyle::dot ? "." + std::string(parent) : std::string(parent));
    }
  }
  for (std::string& k : keys) {
    auto r = table.lookup(k);
    if (!r) return std::move(r).error();
    if (*r) return std::optional<DomainMatch>(DomainMatch{std::move(**r), std::move(k)});
  }
  return std::optional<DomainMatch>();
}

}  // namespace posthorn::maps

// smtpd/access_keys.cc - see access_keys.h.
#include "smtpd/access_keys.h"

#include <arpa/inet.h>

#include <cctype>

#include "lib/address/address.h"
#include "lib/base/strings.h"

namespace posthorn::smtpd {
namespace {

// "4.7.1" / "5.1.1": class digit, dot, 1-3 digits, dot, 1-3 digits.
bool is_dsn(std::string_view s) {
  const std::vector<std::string> parts = split(s, '.');
  if (parts.size() != 3 || parts[0].size() != 1 || (parts[0][0] != '4' && parts[0][0] != '5'))
    return false;
  for (std::size_t i = 1; i < 3; ++i) {
    if (parts[i].empty() || parts[i].size() > 3) return false;
    for (char c : parts[i])
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Splits "5.1.1 text" into dsn and text when the first word is a DSN code.
void set_text(AccessAction& a, std::string_view rest) {
  rest = trim(rest);
  const std::size_t sp = rest.find(' ');
  const std::string_view first = rest.substr(0, sp);
  if (is_dsn(first)) {
    a.dsn = std::string(first);
    rest = sp == std::string_view::npos ? "" : trim(rest.substr(sp + 1));
  }
  a.text = std::string(rest);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// IPv6 groups without leading zeros, "::" expanded: 8 entries. Empty when
// `addr` is not IPv6.
std::vector<std::string> ipv6_groups(std::string_view addr) {
  in6_addr a{};
  if (inet_pton(AF_INET6, std::string(addr).c_str(), &a) != 1) return {};
  std::vector<std::string> out;
  for (int i = 0; i < 8; ++i) {
    const unsigned v = (unsigned(a.s6_addr[2 * i]) << 8) | a.s6_addr[2 * i + 1];
    char buf[8];
    std::snprintf(buf, sizeof buf, "%x", v);
    out.emplace_back(buf);
  }
  return out;
}

}  // namespace

std::vector<std::string> domain_keys(std::string_view domain, bool parent_matches_subdomains) {
  std::string d = to_lower(domain);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty()) return {};
  std::vector<std::string> keys = {d};
  // An address literal has no parents.
  if (d.front() == '[') return keys;
  for (std::size_t dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 1)) {
    const std::string parent = d.substr(dot + 1);
    if (parent.empty()) break;
    keys.push_back(parent_matches_subdomains ? parent : "." + parent);
  }
  return keys;
}

std::vector<std::string> address_keys(std::string_view address, std::string_view delimiters,
                                      bool parent_matches_subdomains) {
  const std::size_t at = address.rfind('@');
  const std::string local(address.substr(0, at));
  const std::string domain = at == std::string_view::npos ? "" : to_lower(address.substr(at + 1));
  const address::LocalSplit split = address::split_extension(local, delimiters);
  const bool has_ext = split.delimiter != '\0';
  std::vector<std::string> keys;
  if (!domain.empty()) {
    keys.push_back(cat(local, "@", domain));
    if (has_ext) keys.push_back(cat(split.base, "@", domain));
    for (std::string& k : domain_keys(domain, parent_matches_subdomains)) keys.push_back(std::move(k));
  }
  keys.push_back(local + "@");
  if (has_ext) keys.push_back(split.base + "@");
  return keys;
}

std::vector<std::string> client_keys(std::string_view name, std::string_view addr,
                                     bool parent_matches_subdomains) {
  std::vector<std::string> keys;
  if (!name.empty() && name != "unknown") keys = domain_keys(name, parent_matches_subdomains);
  const std::string a(addr);
  keys.push_back(a);
  in_addr v4{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
    std::string prefix = a;
    for (int i = 0; i < 3; ++i) {
      prefix.erase(prefix.rfind('.'));
      keys.push_back(prefix);
    }
    return keys;
  }
  std::vector<std::string> groups = ipv6_groups(a);
  for (std::size_t n = groups.size(); n > 0; --n) {
    std::vector<std::string> head(groups.begin(), groups.begin() + static_cast<long>(n));
    std::string key = join(head, ":");
    if (key != a) keys.push_back(std::move(key));
  }
  return keys;
}

AccessAction parse_access_value(std::string_view value) {
  value = trim(value);
  const std::size_t sp = value.find_first_of(" \t");
  const std::string word(value.substr(0, sp));
  const std::string_view rest = sp == std::string_view::npos ? "" : value.substr(sp + 1);
  AccessAction a;
  if (iequals(word, "OK") || iequals(word, "PERMIT")) {
    a.kind = AccessAction::permit;
  } else if (iequals(word, "DUNNO")) {
    a.kind = AccessAction::dunno;
  } else if (iequals(word, "REJECT")) {
    a.kind = AccessAction::reject;
    set_text(a, rest);
  } else if (iequals(word, "DEFER")) {
    a.kind = AccessAction::defer;
    set_text(a, rest);
  } else if (all_digits(word) && word.size() == 3 && (word[0] == '4' || word[0] == '5') &&
             !rest.empty()) {
    a.kind = word[0] == '4' ? AccessAction::defer : AccessAction::reject;
    a.code = std::stoi(word);
    set_text(a, rest);
    if (!a.dsn.empty() && a.dsn[0] != word[0]) a.dsn[0] = word[0];
  } else if (all_digits(word) && rest.empty()) {
    // access(5): an all-numeric value is OK (tables shared with other uses).
    a.kind = AccessAction::permit;
  } else {
    a.kind = AccessAction::invalid;
    a.text = std::string(value);
  }
  return a;
}

}  // namespace posthorn::smtpd

// lib/address/address.cc - the Mailbox value, errors, quoting, domain checks.
#include "lib/address/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "lib/address/syntax.h"
#include "lib/address/utf8.h"
#include "lib/base/strings.h"

namespace posthorn::address {
namespace {

struct CodeInfo {
  Code code;
  Errc errc;
  std::string_view text;
};

// The one table behind make_address_error, code_of and reply_text.
constexpr CodeInfo kCodes[] = {
    {Code::syntax, Errc::parse, "Bad address syntax"},
    {Code::bad_domain, Errc::parse, "Bad domain name syntax"},
    {Code::bad_literal, Errc::parse, "Bad address literal"},
    {Code::no_domain, Errc::parse, "Domain name required in address"},
    {Code::bad_utf8, Errc::parse, "Invalid UTF-8 in address"},
    {Code::local_too_long, Errc::too_large, "Local part too long"},
    {Code::domain_too_long, Errc::too_large, "Domain name too long"},
    {Code::path_too_long, Errc::too_large, "Path too long"},
    {Code::needs_smtputf8, Errc::unsupported, "Non-ASCII address requires SMTPUTF8"},
    {Code::bad_param, Errc::parse, "Bad ESMTP parameter syntax"},
    {Code::bad_xtext, Errc::parse, "Bad xtext encoding"},
};

bool is_ldh(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 5321 4.1.3: IPv4-address-literal, or "IPv6:" IPv6-addr. General
// address literals with other tags are refused: IANA has registered none.
Result<std::string> canonical_literal(std::string_view lit) {
  if (lit.size() < 2 || lit.back() != ']') return make_address_error(Code::bad_literal);
  std::string inner(lit.substr(1, lit.size() - 2));
  if (inner.find('\0') != std::string::npos) return make_address_error(Code::bad_literal);
  unsigned char buf[16];
  std::string out;
  if (istarts_with(inner, "IPv6:")) {
    std::string addr = to_lower(std::string_view(inner).substr(5));
    if (inet_pton(AF_INET6, addr.c_str(), buf) != 1) return make_address_error(Code::bad_literal);
    out = "[IPv6:" + addr + "]";
  } else {
    // glibc's inet_pton refuses leading zeros ("010.0.0.1"), which keeps
    // octal-looking literals out.
    if (inet_pton(AF_INET, inner.c_str(), buf) != 1) return make_address_error(Code::bad_literal);
    out = "[" + inner + "]";
  }
  if (out.size() > kMaxDomain) return make_address_error(Code::domain_too_long);
  return out;
}

// One label of a domain name: LDH (or UTF-8 in a U-label), no hyphen at
// either end (RFC 5321 4.1.2 sub-domain, RFC 5890 2.3.1).
Result<void> check_label(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-')
    return make_address_error(Code::bad_domain);
  for (char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_ldh(c) && c < 0x80) return make_address_error(Code::bad_domain);
  }
  // RFC 1035 2.3.4; a U-label's limit applies to its A-label, which only
  // the resolving code computes.
  if (!has_non_ascii(label) && label.size() > kMaxLabel)
    return make_address_error(Code::domain_too_long);
  return {};
}

bool in_set(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

}  // namespace

Error make_address_error(Code c) {
  for (const auto& i : kCodes)
    if (i.code == c) return Error{i.errc, std::string(i.text)};
  return Error{Errc::invalid, "Error"};
}

Code code_of(const Error& e) {
  for (const auto& i : kCodes)
    if (i.errc == e.code && i.text == e.detail) return i.code;
  return Code::other;
}

std::string_view reply_text(Code c) {
  for (const auto& i : kCodes)
    if (i.code == c) return i.text;
  return "Error";
}

std::string to_string(const Mailbox& m) {
  std::string s = quote_local(m.local);
  if (!m.domain.empty()) s += "@" + m.domain;
  return s;
}

bool is_dot_atom(std::string_view local) {
  if (local.empty() || local.front() == '.' || local.back() == '.') return false;
  char prev = '\0';
  for (char ch : local) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '.' && prev == '.') return false;
    if (ch != '.' && !internal::is_atext(c) && c < 0x80) return false;
    prev = ch;
  }
  return true;
}

std::string quote_local(std::string_view local) {
  if (is_dot_atom(local)) return std::string(local);
  std::string q = "\"";
  for (char c : local) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  q += '"';
  return q;
}

Result<std::string> unquote_local(std::string_view wire, const Options& opts) {
  if (!valid_utf8(wire)) return make_address_error(Code::bad_utf8);
  if (internal::scan_local(wire) != wire.size() || wire.empty())
    return make_address_error(Code::syntax);
  std::string out;
  if (wire.front() == '"') {
    // RFC 5321 quoted-pairSMTP: backslash then %d32-126.
    for (std::size_t i = 1; i + 1 < wire.size(); ++i) {
      auto c = static_cast<unsigned char>(wire[i]);
      if (c == '\\') {
        c = static_cast<unsigned char>(wire[++i]);
        if (c < 0x20 || c > 0x7e) return make_address_error(Code::syntax);
      }
      out += static_cast<char>(c);
    }
  } else {
    if (!is_dot_atom(wire)) return make_address_error(Code::syntax);
    out = std::string(wire);
  }
  if (auto r = internal::check_local_octets(out, opts); !r) return std::move(r).error();
  if (quote_local(out).size() > kMaxLocal) return make_address_error(Code::local_too_long);
  return out;
}

bool same_address(const Mailbox& a, const Mailbox& b) {
  return a.local == b.local && iequals(a.domain, b.domain);
}

LocalSplit split_extension(std::string_view local, std::string_view delimiters) {
  LocalSplit out{std::string(local), '\0', {}};
  if (delimiters.empty() || iequals(local, "postmaster") || iequals(local, "mailer-daemon"))
    return out;
  if (in_set('-', delimiters)) {
    if (istarts_with(local, "owner-")) return out;
    if (local.size() > 8 && iequals(local.substr(local.size() - 8), "-request")) return out;
  }
  const std::size_t pos = local.find_first_of(delimiters);
  if (pos == std::string_view::npos || pos == 0) return out;
  out.base = std::string(local.substr(0, pos));
  out.delimiter = local[pos];
  out.extension = std::string(local.substr(pos + 1));
  return out;
}

Result<std::string> canonical_domain(std::string_view domain, const Options& opts) {
  if (domain.empty()) return make_address_error(Code::bad_domain);
  if (domain.front() == '[') return canonical_literal(domain);
  if (!valid_utf8(domain)) return make_address_error(Code::bad_utf8);
  if (!opts.smtputf8 && has_non_ascii(domain)) return make_address_error(Code::needs_smtputf8);
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    const auto label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (auto r = check_label(label); !r) return std::move(r).error();
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (domain.size() > kMaxDomain) return make_address_error(Code::domain_too_long);
  return to_lower(domain);
}

namespace internal {

bool is_atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_local_octet(unsigned char c) { return (c >= 0x20 && c <= 0x7e) || c >= 0x80; }

std::size_t scan_local(std::string_view s) {
  if (s.empty()) return 0;
  std::size_t i = 0;
  if (s[0] == '"') {
    for (i = 1; i < s.size(); ++i) {
      if (s[i] == '\\') {
        if (++i == s.size()) return 0;
      } else if (s[i] == '"') {
        return i + 1;
      }
    }
    return 0;
  }
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!is_atext(c) && c != '.' && c < 0x80) break;
    ++i;
  }
  return i;
}

Result<void> check_local_octets(std::string_view s, const Options& opts) {
  for (char c : s)
    if (!is_local_octet(static_cast<unsigned char>(c))) return make_address_error(Code::syntax);
  if (!valid_utf8(s)) return make_address_error(Code::bad_utf8);
  if (!opts.smtputf8 && has_non_ascii(s)) return make_address_error(Code::needs_smtputf8);
  return {};
}

Result<void> check_lengths(const Mailbox& m) {
  const std::size_t local = quote_local(m.local).size();
  if (local > kMaxLocal) return make_address_error(Code::local_too_long);
  if (m.domain.size() > kMaxDomain) return make_address_error(Code::domain_too_long);
  const std::size_t path = 2 + local + (m.domain.empty() ? 0 : 1 + m.domain.size());
  if (path > kMaxPath) return make_address_error(Code::path_too_long);
  return {};
}

}  // namespace internal
}  // namespace posthorn::address

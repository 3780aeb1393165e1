// lib/address/path.cc - see path.h.
#include "lib/address/path.h"

#include "lib/address/syntax.h"
#include "lib/address/utf8.h"
#include "lib/base/strings.h"

namespace posthorn::address {
namespace {

bool is_blank(char c, bool lenient) { return c == ' ' || (lenient && c == '\t'); }

bool has_control(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

// The position of the first octet at or after `i` that is `stop` (or a
// blank in lenient bare mode) outside a quoted string; s.size() if none.
// Quoted strings matter: "<\"a>b\"@c>" holds a '>' that does not end it.
std::size_t find_outside_quotes(std::string_view s, std::size_t i, char stop, bool blanks) {
  bool quoted = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\' && i + 1 < s.size()) ++i;
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == stop || (blanks && is_blank(c, true))) {
      return i;
    }
  }
  return s.size();
}

// Skips an RFC 5321 A-d-l ("@a,@b:") at the start of `s`, checking each
// domain, and returns the length consumed. The route is then dropped:
// RFC 5321 appendix C lets a server ignore it and deliver to the mailbox.
Result<std::size_t> skip_route(std::string_view s, const Options& opts) {
  std::size_t i = 0;
  while (true) {
    if (i >= s.size() || s[i] != '@') return make_address_error(Code::syntax);
    const std::size_t end = s.find_first_of(",:", i + 1);
    if (end == std::string_view::npos) return make_address_error(Code::syntax);
    auto d = canonical_domain(s.substr(i + 1, end - i - 1), opts);
    if (!d) return std::move(d).error();
    i = end + 1;
    if (s[end] == ':') return i;
  }
}

// Route (optional), local part, then "@domain" or, where allowed, nothing.
Result<Mailbox> parse_mailbox_text(std::string_view s, const Options& opts) {
  if (has_control(s)) return make_address_error(Code::syntax);
  if (!s.empty() && s[0] == '@') {
    auto n = skip_route(s, opts);
    if (!n) return std::move(n).error();
    s.remove_prefix(*n);
  }
  const std::size_t n = internal::scan_local(s);
  if (n == 0) return make_address_error(Code::syntax);
  auto local = unquote_local(s.substr(0, n), opts);
  if (!local) return std::move(local).error();
  Mailbox m{std::move(*local), {}};
  if (n == s.size()) {
    // RFC 5321 4.1.1.3: "<postmaster>" is the one unqualified forward-path.
    if (opts.lenient || iequals(m.local, "postmaster")) return m;
    return make_address_error(Code::no_domain);
  }
  if (s[n] != '@') return make_address_error(Code::syntax);
  auto domain = canonical_domain(s.substr(n + 1), opts);
  if (!domain) return std::move(domain).error();
  m.domain = std::move(*domain);
  if (auto r = internal::check_lengths(m); !r) return std::move(r).error();
  return m;
}

struct PathEnd {
  Path path;
  std::size_t next;  // offset in the argument just after the path
};

// The path at the start of `arg` (after lenient leading blanks).
Result<PathEnd> parse_leading_path(std::string_view arg, const Options& opts) {
  std::size_t i = 0;
  if (opts.lenient)
    while (i < arg.size() && is_blank(arg[i], true)) ++i;
  std::string_view inner;
  std::size_t wire_len, next;
  if (i < arg.size() && arg[i] == '<') {
    const std::size_t close = find_outside_quotes(arg, i + 1, '>', false);
    if (close == arg.size()) return make_address_error(Code::syntax);
    inner = arg.substr(i + 1, close - i - 1);
    wire_len = close - i + 1;
    next = close + 1;
  } else if (opts.lenient) {
    // A missing '<' with a present '>' is a typo, not a bare address.
    next = find_outside_quotes(arg, i, '\0', true);
    inner = arg.substr(i, next - i);
    if (inner.empty() || inner.back() == '>') return make_address_error(Code::syntax);
    wire_len = inner.size() + 2;
  } else {
    return make_address_error(Code::syntax);
  }
  PathEnd out{{}, next};
  if (inner.empty()) {
    out.path.null = true;
  } else {
    auto m = parse_mailbox_text(inner, opts);
    if (!m) return std::move(m).error();
    out.path.mailbox = std::move(*m);
  }
  if (wire_len > kMaxPath) return make_address_error(Code::path_too_long);
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool is_keyword_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && c == '-');
}

// esmtp-param = esmtp-keyword ["=" esmtp-value]; the value is %d33-60 /
// %d62-126, and UTF-8 under SMTPUTF8 (RFC 6531 3.3; checked by the caller).
Result<EsmtpParam> parse_param(std::string_view tok) {
  const std::size_t eq = tok.find('=');
  const std::string_view key = tok.substr(0, eq);
  if (key.empty()) return make_address_error(Code::bad_param);
  for (std::size_t k = 0; k < key.size(); ++k)
    if (!is_keyword_char(key[k], k == 0)) return make_address_error(Code::bad_param);
  EsmtpParam p{upper(key), std::nullopt};
  if (eq == std::string_view::npos) return p;
  const std::string_view value = tok.substr(eq + 1);
  if (value.empty()) return make_address_error(Code::bad_param);
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '=' || (c < 0x80 && (c < 33 || c > 126))) return make_address_error(Code::bad_param);
  }
  p.value = std::string(value);
  return p;
}

// Mail-parameters after the path: one SP before each (strict), or runs of
// blanks anywhere (lenient).
Result<std::vector<EsmtpParam>> parse_params(std::string_view rest, bool lenient) {
  std::vector<EsmtpParam> out;
  std::size_t i = 0;
  if (!rest.empty() && !is_blank(rest[0], lenient)) return make_address_error(Code::syntax);
  while (i < rest.size()) {
    if (!is_blank(rest[i], lenient)) return make_address_error(Code::bad_param);
    ++i;
    if (lenient)
      while (i < rest.size() && is_blank(rest[i], true)) ++i;
    if (lenient && i == rest.size()) break;
    std::size_t end = i;
    while (end < rest.size() && !is_blank(rest[end], lenient)) ++end;
    auto p = parse_param(rest.substr(i, end - i));
    if (!p) return std::move(p).error();
    out.push_back(std::move(*p));
    i = end;
  }
  return out;
}

}  // namespace

bool Path::is_postmaster() const {
  return !null && mailbox.domain.empty() && iequals(mailbox.local, "postmaster");
}

Result<PathArg> parse_path_arg(std::string_view arg, const Options& opts) {
  if (!valid_utf8(arg)) return make_address_error(Code::bad_utf8);
  // Parse as if UTF-8 were allowed, then decide: the SMTPUTF8 parameter
  // that allows it comes after the path (RFC 6531 3.4).
  Options wide = opts;
  wide.smtputf8 = true;
  auto head = parse_leading_path(arg, wide);
  if (!head) return std::move(head).error();
  auto params = parse_params(arg.substr(head->next), opts.lenient);
  if (!params) return std::move(params).error();
  const bool utf8_ok = opts.smtputf8 || find_param(*params, "SMTPUTF8") != nullptr;
  if (!utf8_ok && has_non_ascii(arg)) return make_address_error(Code::needs_smtputf8);
  return PathArg{std::move(head->path), std::move(*params)};
}

Result<Path> parse_path(std::string_view path, const Options& opts) {
  if (!valid_utf8(path)) return make_address_error(Code::bad_utf8);
  auto head = parse_leading_path(path, opts);
  if (!head) return std::move(head).error();
  std::size_t i = head->next;
  if (opts.lenient)
    while (i < path.size() && is_blank(path[i], true)) ++i;
  if (i != path.size()) return make_address_error(Code::syntax);
  return std::move(head->path);
}

Result<Mailbox> parse_mailbox(std::string_view text, const Options& opts) {
  if (text.empty()) return make_address_error(Code::syntax);
  std::string path;
  path.reserve(text.size() + 2);
  path.append("<").append(text).append(">");
  auto p = parse_path(path, opts);
  if (!p) return std::move(p).error();
  return std::move(p->mailbox);
}

std::string to_string(const Path& p) {
  return p.null ? std::string("<>") : "<" + to_string(p.mailbox) + ">";
}

const EsmtpParam* find_param(const std::vector<EsmtpParam>& params, std::string_view keyword) {
  for (const auto& p : params)
    if (iequals(p.keyword, keyword)) return &p;
  return nullptr;
}

}  // namespace posthorn::address

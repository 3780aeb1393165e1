// local/destinations.cc - see destinations.h.
#include "local/destinations.h"

#include "lib/address/address.h"
#include "lib/base/strings.h"
#include "lib/maps/source.h"

namespace posthorn::local {

std::string_view source_name(Source s) {
  switch (s) {
    case Source::alias: return "alias";
    case Source::forward: return "forward";
    case Source::include: return "include";
  }
  return "alias";
}

AddressParts split_address(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {std::string(address), {}};
  return {std::string(address.substr(0, at)), std::string(address.substr(at + 1))};
}

Result<std::string> normalize_address(std::string_view written) {
  std::string_view a = trim(written);
  // "Name <addr>" or "<addr>": the part in brackets (a quoted name may hold
  // '<', so the last '<' counts).
  if (!a.empty() && a.back() == '>') {
    std::size_t lt = a.rfind('<');
    if (lt == std::string_view::npos) return make_error(Errc::parse, "unbalanced '>' in address");
    a = trim(a.substr(lt + 1, a.size() - lt - 2));
  }
  if (!a.empty() && a.front() == '\\') a.remove_prefix(1);
  if (a.empty()) return make_error(Errc::parse, "empty address");
  AddressParts p = split_address(a);
  if (p.local.empty()) return make_error(Errc::parse, cat("empty local part in ", printable(a)));
  std::string local = p.local;
  if (local.front() == '"') {
    address::Options o;
    o.smtputf8 = true;
    auto u = address::unquote_local(local, o);
    if (!u) return make_error(Errc::parse, cat("bad local part in ", printable(a)));
    local = *u;
    if (local.empty()) return make_error(Errc::parse, cat("empty local part in ", printable(a)));
  }
  if (p.domain.empty()) {
    if (a.back() == '@') return make_error(Errc::parse, cat("empty domain in ", printable(a)));
    return address::quote_local(local);
  }
  return cat(address::quote_local(local), "@", to_lower(p.domain));
}

Result<std::vector<Destination>> parse_destinations(std::string_view value) {
  auto targets = maps::parse_alias_value(value);
  if (!targets) return std::move(targets).error();
  std::vector<Destination> out;
  for (const maps::AliasTarget& t : *targets) {
    Destination d;
    d.text = t.text;
    switch (t.kind) {
      case maps::AliasTarget::Kind::address: {
        auto a = normalize_address(t.text);
        if (!a) return std::move(a).error();
        d = {Destination::Kind::address, std::move(*a)};
        break;
      }
      case maps::AliasTarget::Kind::command:
        d.kind = Destination::Kind::command;
        if (trim(d.text).empty()) return make_error(Errc::parse, "empty command");
        break;
      case maps::AliasTarget::Kind::file:
        d.kind = Destination::Kind::file;
        break;
      case maps::AliasTarget::Kind::include:
        d.kind = Destination::Kind::include;
        if (d.text.empty() || d.text.front() != '/')
          return make_error(Errc::parse, cat(":include: path is not absolute: ", printable(d.text)));
        break;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Destination> parse_destination_file(std::string_view text,
                                                std::vector<std::string>& problems) {
  std::vector<maps::Diagnostic> warnings;
  std::vector<Destination> out;
  for (const maps::LogicalLine& l : maps::logical_lines(text, "", warnings)) {
    auto d = parse_destinations(l.text);
    if (!d) {
      problems.push_back(cat("line ", l.line, ": ", d.error().detail));
      continue;
    }
    for (Destination& x : *d) out.push_back(std::move(x));
  }
  for (const maps::Diagnostic& w : warnings) problems.push_back(cat("line ", w.line, ": ", w.text));
  return out;
}

}  // namespace posthorn::local

// lib/mime/section.cc - IMAP section specifiers.
#include "lib/mime/section.h"

#include <algorithm>

#include "lib/base/strings.h"

namespace posthorn::mime {

namespace {

using Text = SectionSpec::Text;

Error bad(std::string_view what) { return make_error(Errc::parse, cat("bad section: ", what)); }

// header-list = "(" header-fld-name *(SP header-fld-name) ")"; names are
// astrings: atoms or quoted strings.
Result<std::vector<std::string>> parse_field_list(std::string_view s) {
  s = trim(s);
  if (s.size() < 2 || s.front() != '(' || s.back() != ')') return bad("field list");
  s = s.substr(1, s.size() - 2);
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') { ++i; continue; }
    std::string name;
    if (s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        name += s[i];
      }
      if (i >= s.size()) return bad("unclosed quote");
      ++i;
    } else {
      while (i < s.size() && s[i] != ' ') {
        if (s[i] <= ' ' || s[i] == '(' || s[i] == ')' || s[i] == '"' || s[i] == 127) {
          return bad("field name");
        }
        name += s[i++];
      }
    }
    out.push_back(std::move(name));
  }
  if (out.empty()) return bad("empty field list");
  return out;
}

Result<void> parse_text(std::string_view s, SectionSpec& out) {
  if (iequals(s, "HEADER")) { out.text = Text::header; return {}; }
  if (iequals(s, "TEXT")) { out.text = Text::text; return {}; }
  if (iequals(s, "MIME")) {
    if (out.part.empty()) return bad("MIME needs a part number");
    out.text = Text::mime;
    return {};
  }
  std::size_t sp = s.find(' ');
  std::string_view kw = s.substr(0, sp);
  if (sp == std::string_view::npos) return bad(s);
  if (iequals(kw, "HEADER.FIELDS")) out.text = Text::header_fields;
  else if (iequals(kw, "HEADER.FIELDS.NOT")) out.text = Text::header_fields_not;
  else return bad(s);
  auto fields = parse_field_list(s.substr(sp + 1));
  if (!fields) return fields.error();
  out.fields = std::move(*fields);
  return {};
}

// The numbered subparts of a message: its children when multipart, else
// the message itself as part 1.
std::vector<std::size_t> message_parts(const Message& m, std::size_t msg) {
  if (m.parts[msg].is_multipart()) return m.parts[msg].children;
  return {msg};
}

std::vector<std::size_t> subparts(const Message& m, std::size_t idx) {
  const Part& p = m.parts[idx];
  if (p.is_multipart()) return p.children;
  if (p.is_message()) return message_parts(m, p.children[0]);
  return {};
}

}  // namespace

Result<SectionSpec> parse_section(std::string_view spec) {
  SectionSpec out;
  std::size_t i = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') {
    std::size_t dot = spec.find('.', i);
    std::string_view num = spec.substr(i, dot == std::string_view::npos ? dot : dot - i);
    unsigned long long n = 0;
    if (!parse_uint(num, n) || n == 0 || n > 0xffffffffULL || num[0] == '0') return bad(num);
    out.part.push_back(static_cast<std::uint32_t>(n));
    if (dot == std::string_view::npos) return out;
    i = dot + 1;
    if (i == spec.size()) return bad("trailing dot");
  }
  if (i == spec.size()) return out;
  auto t = parse_text(spec.substr(i), out);
  if (!t) return t.error();
  return out;
}

Result<std::size_t> section_part(const Message& msg, const std::vector<std::uint32_t>& part) {
  std::size_t idx = 0;
  std::vector<std::size_t> choices = message_parts(msg, 0);
  for (std::size_t k = 0; k < part.size(); ++k) {
    if (part[k] > choices.size()) return make_error(Errc::not_found, "no such part");
    idx = choices[part[k] - 1];
    choices = subparts(msg, idx);
  }
  return idx;
}

Result<Range> section_range(const Message& msg, const SectionSpec& spec) {
  auto found = section_part(msg, spec.part);
  if (!found) return found.error();
  const std::size_t idx = *found;
  const Part& p = msg.parts[idx];
  switch (spec.text) {
    case Text::none:
      return spec.part.empty() ? Range{0, msg.data.size()} : p.body;
    case Text::mime:
      return p.header;
    default:
      break;
  }
  if (spec.text == Text::header_fields || spec.text == Text::header_fields_not) {
    return make_error(Errc::invalid, "HEADER.FIELDS has no single range");
  }
  const Part* m = &p;
  if (!spec.part.empty()) {
    if (!p.is_message()) return make_error(Errc::not_found, "part is not message/rfc822");
    m = &msg.parts[p.children[0]];
  }
  return spec.text == Text::header ? m->header : m->body;
}

Result<std::string> fetch_section(const Message& msg, const SectionSpec& spec) {
  if (spec.text != Text::header_fields && spec.text != Text::header_fields_not) {
    auto r = section_range(msg, spec);
    if (!r) return r.error();
    return to_crlf(r->of(msg.data));
  }
  SectionSpec h = spec;
  h.text = Text::header;
  auto r = section_range(msg, h);
  if (!r) return r.error();
  bool want = spec.text == Text::header_fields;
  std::string out;
  for_each_field(r->of(msg.data), [&](const Field& f) {
    bool listed = std::any_of(spec.fields.begin(), spec.fields.end(),
                              [&](const std::string& n) { return iequals(n, f.name); });
    if (listed == want) {
      out += f.raw;
      if (f.raw.back() != '\n') out += '\n';
    }
    return true;
  });
  out += '\n';
  return to_crlf(out);
}

std::string_view partial(std::string_view data, std::uint64_t origin,
                         std::optional<std::uint64_t> count) {
  if (origin >= data.size()) return {};
  std::string_view rest = data.substr(origin);
  if (count && *count < rest.size()) rest = rest.substr(0, *count);
  return rest;
}

}  // namespace posthorn::mime

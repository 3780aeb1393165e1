// imapd/fetch_items.cc - see fetch_items.h.
#include "imapd/fetch_items.h"

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/mime/imap.h"

namespace posthorn::imapd {
namespace {

using K = FetchItem::Kind;

Error bad(std::string_view what) { return make_error(Errc::parse, cat("Invalid fetch item ", what)); }

// The section as the response names it: keywords upper case, field names as
// given (quoted when they are not atoms).
std::string section_name(const mime::SectionSpec& s) {
  using T = mime::SectionSpec::Text;
  std::string out;
  for (std::uint32_t p : s.part) out += cat(out.empty() ? "" : ".", p);
  std::string_view text;
  switch (s.text) {
    case T::none: break;
    case T::header: text = "HEADER"; break;
    case T::header_fields: text = "HEADER.FIELDS"; break;
    case T::header_fields_not: text = "HEADER.FIELDS.NOT"; break;
    case T::text: text = "TEXT"; break;
    case T::mime: text = "MIME"; break;
  }
  if (!text.empty()) out += cat(out.empty() ? "" : ".", text);
  if (s.text == T::header_fields || s.text == T::header_fields_not) {
    out += " (";
    for (std::size_t i = 0; i < s.fields.size(); ++i) {
      bool atom = !s.fields[i].empty() &&
                  std::all_of(s.fields[i].begin(), s.fields[i].end(), [](unsigned char c) {
                    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '"' &&
                           c != '\\' && c != '{' && c != '%' && c != '*' && c != ']';
                  });
      out += cat(i ? " " : "", atom ? s.fields[i] : mime::imap_string(s.fields[i]));
    }
    out += ")";
  }
  return out;
}

// "BODY[...]<o.c>", "BODY.PEEK[...]<o.c>", and RFC 3516's "BINARY[part]<o.c>",
// "BINARY.PEEK[part]<o.c>", "BINARY.SIZE[part]" (part numbers only).
Result<FetchItem> parse_section_item(std::string_view t) {
  FetchItem item;
  item.kind = K::section;
  std::size_t open = t.find('[');
  std::string_view head = t.substr(0, open);
  std::string_view prefix = "BODY";
  if (iequals(head, "BODY.PEEK")) item.peek = true;
  else if (iequals(head, "BINARY")) item.kind = K::binary, prefix = "BINARY";
  else if (iequals(head, "BINARY.PEEK")) item.kind = K::binary, item.peek = true, prefix = "BINARY";
  else if (iequals(head, "BINARY.SIZE")) item.kind = K::binary_size, prefix = "BINARY.SIZE";
  else if (!iequals(head, "BODY")) return bad(t);
  std::size_t close = t.rfind(']');
  if (close == std::string_view::npos || close < open) return bad(t);
  auto spec = mime::parse_section(t.substr(open + 1, close - open - 1));
  if (!spec) return bad(t);
  item.spec = std::move(*spec);
  if (item.kind != K::section && item.spec.text != mime::SectionSpec::Text::none) return bad(t);
  std::string_view rest = t.substr(close + 1);
  if (!rest.empty() && item.kind == K::binary_size) return bad(t);
  if (!rest.empty()) {
    if (rest.front() != '<' || rest.back() != '>') return bad(t);
    std::string_view inner = rest.substr(1, rest.size() - 2);
    std::size_t dot = inner.find('.');
    unsigned long long o = 0, n = 0;
    if (dot == std::string_view::npos || !parse_uint(inner.substr(0, dot), o) ||
        !parse_uint(inner.substr(dot + 1), n) || n == 0 || o > 0xffffffffULL || n > 0xffffffffULL)
      return bad(t);
    item.origin = o;
    item.count = n;
  }
  item.name = cat(prefix, "[", section_name(item.spec), "]");
  if (item.origin) item.name += cat("<", *item.origin, ">");
  return item;
}

Result<void> add_item(const Value& v, FetchRequest& req) {
  if (!v.is_atom()) return bad("(not an atom)");
  const std::string& t = v.text;
  FetchItem item;
  if (t.find('[') != std::string::npos) {
    auto s = parse_section_item(t);
    if (!s) return s.error();
    item = std::move(*s);
  } else if (iequals(t, "FLAGS")) item.kind = K::flags;
  else if (iequals(t, "UID")) item.kind = K::uid;
  else if (iequals(t, "INTERNALDATE")) item.kind = K::internaldate;
  else if (iequals(t, "RFC822.SIZE")) item.kind = K::rfc822_size;
  else if (iequals(t, "ENVELOPE")) item.kind = K::envelope;
  else if (iequals(t, "BODY")) item.kind = K::body;
  else if (iequals(t, "BODYSTRUCTURE")) item.kind = K::bodystructure;
  else if (iequals(t, "RFC822")) item.kind = K::rfc822;
  else if (iequals(t, "RFC822.HEADER")) item.kind = K::rfc822_header;
  else if (iequals(t, "RFC822.TEXT")) item.kind = K::rfc822_text;
  else return bad(printable(t.substr(0, 64)));
  using T = mime::SectionSpec::Text;
  switch (item.kind) {
    case K::flags: case K::uid: case K::internaldate: case K::rfc822_size: break;
    case K::envelope: case K::rfc822_header: item.data = FetchData::header; break;
    case K::rfc822: case K::rfc822_text:
      req.sets_seen = true;
      item.data = FetchData::all;
      break;
    case K::binary: case K::binary_size:
      req.sets_seen |= item.kind == K::binary && !item.peek;
      item.data = FetchData::all;
      break;
    case K::section:
      req.sets_seen |= !item.peek;
      item.data = item.spec.part.empty() &&
                          (item.spec.text == T::header || item.spec.text == T::header_fields ||
                           item.spec.text == T::header_fields_not)
                      ? FetchData::header
                      : FetchData::all;
      break;
    default: item.data = FetchData::all; break;
  }
  if (item.data != FetchData::none) req.needs_data = true;
  req.items.push_back(std::move(item));
  return {};
}

}  // namespace

bool FetchRequest::has(FetchItem::Kind k) const {
  return std::any_of(items.begin(), items.end(), [k](const FetchItem& i) { return i.kind == k; });
}

Result<FetchRequest> parse_fetch_items(const Value& v) {
  FetchRequest req;
  auto macro = [&](std::initializer_list<const char*> names) -> Result<FetchRequest> {
    for (const char* n : names) {
      Value a;
      a.text = n;
      if (auto r = add_item(a, req); !r) return r.error();
    }
    return req;
  };
  if (v.is("ALL")) return macro({"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"});
  if (v.is("FAST")) return macro({"FLAGS", "INTERNALDATE", "RFC822.SIZE"});
  if (v.is("FULL")) return macro({"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"});
  if (v.is_list()) {
    if (v.items.empty()) return make_error(Errc::parse, "Empty fetch item list");
    for (const Value& i : v.items)
      if (auto r = add_item(i, req); !r) return r.error();
    return req;
  }
  if (auto r = add_item(v, req); !r) return r.error();
  return req;
}

}  // namespace posthorn::imapd

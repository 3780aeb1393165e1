// lib/mime/message.cc - the MIME tree parser.
//
// Steps for one part: split header from body, read the Content-* fields, then
// either split a multipart body at its delimiter lines (all children's ranges
// first, then each child parsed in turn) or parse a message/rfc822 body as a
// message. Recursion is bounded by kMaxDepth, the part count by kMaxParts.
#include "lib/mime/message.h"

#include <algorithm>
#include <cstring>

#include "lib/base/strings.h"

namespace posthorn::mime {

std::uint64_t count_lines(std::string_view s) {
  std::uint64_t n = static_cast<std::uint64_t>(std::count(s.begin(), s.end(), '\n'));
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

std::uint64_t wire_size(std::string_view s) {
  std::uint64_t n = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) ++n;
  }
  return n;
}

std::string to_crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 32);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

namespace {

enum class Delim { none, open, close };

bool is_lwsp_eol(std::string_view rest) {
  for (char c : rest) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// RFC 2046 5.1.1: "--" boundary, then "--" for the close delimiter, then
// only linear white space up to the line break. A boundary that is a prefix
// of another ("b" and "bc") therefore does not match the longer one's lines.
Delim delimiter_kind(std::string_view line, std::string_view boundary) {
  if (line.size() < boundary.size() + 2 || line[0] != '-' || line[1] != '-') return Delim::none;
  if (line.compare(2, boundary.size(), boundary) != 0) return Delim::none;
  std::string_view rest = line.substr(boundary.size() + 2);
  if (rest.size() >= 2 && rest[0] == '-' && rest[1] == '-' && is_lwsp_eol(rest.substr(2))) {
    return Delim::close;
  }
  return is_lwsp_eol(rest) ? Delim::open : Delim::none;
}

// Child ranges of a multipart body at offset `base`. At most `room` children:
// delimiters past that are ignored, so the last child keeps the rest.
std::vector<Range> split_multipart(std::string_view body, std::size_t base,
                                   std::string_view boundary, std::size_t room) {
  std::vector<Range> out;
  bool in_part = false;
  std::size_t start = 0, pos = 0;
  while (pos < body.size()) {
    std::size_t nl = body.find('\n', pos);
    std::size_t next = nl == std::string_view::npos ? body.size() : nl + 1;
    Delim kind = delimiter_kind(body.substr(pos, next - pos), boundary);
    if (kind != Delim::none && !(kind == Delim::open && out.size() + 1 >= room && in_part)) {
      if (in_part) {
        // The line break before the delimiter belongs to the delimiter.
        std::size_t end = pos;
        if (end > start && body[end - 1] == '\n') --end;
        if (end > start && body[end - 1] == '\r') --end;
        out.push_back({base + start, base + end});
      }
      if (kind == Delim::close) return out;
      in_part = true;
      start = next;
    }
    pos = next;
  }
  if (in_part) out.push_back({base + start, base + body.size()});  // no close delimiter
  return out;
}

std::vector<std::string> split_languages(std::string_view v) {
  std::vector<std::string> out;
  for (const auto& piece : split(unfold(v), ',')) {
    std::string_view t = trim(piece);
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

void read_fields(std::string_view header, Part& p) {
  bool seen_type = false, seen_enc = false, seen_disp = false, seen_lang = false;
  for_each_field(header, [&](const Field& f) {
    if (!istarts_with(f.name, "content-")) return true;
    std::string_view n = f.name.substr(8);
    if (iequals(n, "type") && !seen_type) {
      seen_type = true;
      StructuredValue ct = parse_structured(f.value, true);
      // An unusable Content-Type is no Content-Type (RFC 2045 5.2).
      if (!ct.type.empty() && !ct.subtype.empty()) {
        p.content_type = std::move(ct);
        p.content_type_given = true;
      }
    } else if (iequals(n, "transfer-encoding") && !seen_enc) {
      seen_enc = true;
      std::string e = to_lower(unfold(f.value));
      if (!e.empty()) p.encoding = e;
    } else if (iequals(n, "id") && !p.has_id) {
      p.has_id = true;
      p.id = unfold(f.value);
    } else if (iequals(n, "description") && !p.has_description) {
      p.has_description = true;
      p.description = unfold(f.value);
    } else if (iequals(n, "disposition") && !seen_disp) {
      seen_disp = true;
      p.disposition = parse_structured(f.value, false);
    } else if (iequals(n, "language") && !seen_lang) {
      seen_lang = true;
      p.languages = split_languages(f.value);
    } else if (iequals(n, "location") && !p.has_location) {
      p.has_location = true;
      p.location = unfold(f.value);
    }
    return true;
  });
}

StructuredValue default_type(bool digest_child) {
  StructuredValue ct;
  if (digest_child) {
    ct.type = "message";
    ct.subtype = "rfc822";
  } else {
    ct.type = "text";
    ct.subtype = "plain";
    ct.params.push_back({"charset", "us-ascii"});
  }
  return ct;
}

// Treats a part that cannot be split (too deep, too many parts, no
// boundary) as plain text, so its body is still reachable as one leaf.
void make_leaf(Part& p) {
  p.content_type = default_type(false);
  p.content_type_given = false;
  p.encapsulates = false;
}

bool identity_encoding(const std::string& e) { return e == "7bit" || e == "8bit" || e == "binary"; }

class Parser {
 public:
  explicit Parser(Message& m) : m_(m) {}

  // Parses the part at index `idx`, whose header and body lie in `whole`.
  void parse_part(std::size_t idx, Range whole, bool digest_child) {
    std::string_view text = whole.of(m_.data);
    HeaderBounds hb = find_header_end(text);
    Part& p = m_.parts[idx];
    p.header = {whole.begin, whole.begin + hb.end};
    p.body = {whole.begin + hb.body, whole.end};
    p.content_type = default_type(digest_child);
    read_fields(p.header.of(m_.data), p);
    std::string_view body = p.body.of(m_.data);
    p.lines = count_lines(body);
    p.wire_size = wire_size(body);
    if (p.is_multipart()) {
      parse_multipart(idx);
    } else if (p.content_type.type == "message" && p.content_type.subtype == "rfc822" &&
               identity_encoding(p.encoding)) {
      // Only message/rfc822: IMAP4rev1's body-type-msg names no other type,
      // so message/global (RFC 6532) stays a leaf a rev1 client can parse.
      parse_encapsulated(idx);
    }
  }

 private:
  bool room_for_children(const Part& p) const {
    return p.depth + 1 < kMaxDepth && m_.parts.size() < kMaxParts;
  }

  std::size_t add_child(std::size_t parent) {
    Part child;
    child.depth = m_.parts[parent].depth + 1;
    m_.parts.push_back(std::move(child));
    m_.parts[parent].children.push_back(m_.parts.size() - 1);
    return m_.parts.size() - 1;
  }

  void parse_multipart(std::size_t idx) {
    Part& p = m_.parts[idx];
    const std::string* boundary = p.content_type.param("boundary");
    if (boundary == nullptr || boundary->empty()) return make_leaf(p);
    if (!room_for_children(p)) {
      p.over_limit = true;
      return make_leaf(p);
    }
    std::vector<Range> ranges = split_multipart(p.body.of(m_.data), p.body.begin, *boundary,
                                                kMaxParts - m_.parts.size());
    if (ranges.empty()) return make_leaf(p);
    bool digest = p.content_type.subtype == "digest";
    std::size_t first = m_.parts.size();
    for (std::size_t i = 0; i < ranges.size(); ++i) add_child(idx);
    for (std::size_t i = 0; i < ranges.size(); ++i) parse_part(first + i, ranges[i], digest);
  }

  void parse_encapsulated(std::size_t idx) {
    if (!room_for_children(m_.parts[idx])) {
      m_.parts[idx].over_limit = true;
      return make_leaf(m_.parts[idx]);
    }
    m_.parts[idx].encapsulates = true;
    Range body = m_.parts[idx].body;
    std::size_t child = add_child(idx);
    parse_part(child, body, false);
  }

  Message& m_;
};

}  // namespace

Message parse(std::string_view data) {
  Message m;
  m.data = data;
  m.parts.emplace_back();
  Parser(m).parse_part(0, {0, data.size()}, false);
  return m;
}

}  // namespace posthorn::mime

// mime_fuzz - feeds arbitrary bytes to lib/mime as a message and checks the
// module's guarantees: parsing never fails, ranges stay inside the buffer and
// nest, limits hold, BODYSTRUCTURE / ENVELOPE render with balanced
// parentheses outside strings, sections resolve inside the buffer, and the
// transfer encodings round-trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/mime/downgrade.h"
#include "lib/mime/encoded_word.h"
#include "lib/mime/imap.h"
#include "lib/mime/message.h"
#include "lib/mime/section.h"
#include "lib/mime/transfer.h"

using namespace posthorn::mime;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

// Parentheses outside quoted strings and literals must balance.
void check_balanced(std::string_view s) {
  long depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
      }
    } else if (c == '{') {
      std::size_t close = s.find('}', i);
      require(close != std::string_view::npos, "literal length");
      std::size_t n = std::strtoul(std::string(s.substr(i + 1, close - i - 1)).c_str(), nullptr, 10);
      std::size_t after = close + 3 + n;  // "}" CRLF, then n octets
      require(after <= s.size(), "literal fits");
      i = after - 1;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      require(--depth >= 0, "parenthesis underflow");
    }
  }
  require(depth == 0, "parentheses balance");
}

void check_tree(const Message& m) {
  require(!m.parts.empty() && m.parts.size() <= kMaxParts, "part count");
  for (const auto& p : m.parts) {
    require(p.depth < kMaxDepth, "depth");
    require(p.header.begin <= p.header.end && p.header.end <= p.body.begin, "header range");
    require(p.body.begin <= p.body.end && p.body.end <= m.data.size(), "body range");
    for (std::size_t c : p.children) {
      const Part& k = m.parts[c];
      require(k.header.begin >= p.body.begin && k.body.end <= p.body.end, "child inside parent");
    }
    if (p.is_multipart()) require(!p.children.empty(), "multipart has parts");
  }
}

void check_sections(const Message& m) {
  for (const char* spec : {"", "1", "2", "1.1", "1.2.3", "TEXT", "HEADER", "1.MIME",
                           "2.HEADER", "1.TEXT", "HEADER.FIELDS (From Subject)",
                           "1.HEADER.FIELDS.NOT (To)"}) {
    auto s = parse_section(spec);
    require(s.has_value(), "fixed specs parse");
    if (s->text != SectionSpec::Text::header_fields &&
        s->text != SectionSpec::Text::header_fields_not) {
      auto r = section_range(m, *s);
      if (r) require(r->begin <= r->end && r->end <= m.data.size(), "section range");
    }
    (void)fetch_section(m, *s);
  }
}

void check_encodings(std::string_view in) {
  require(base64_decode(base64_encode(in)).data == in, "base64 round trip");
  Decoded q = qp_decode(qp_encode(in));
  require(q.clean && q.data == to_crlf(in), "quoted-printable round trip");
  (void)qp_decode(in);
  (void)base64_decode(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Message m = parse(in);
  check_tree(m);
  check_balanced(body_structure(m, true));
  check_balanced(body_structure(m, false));
  check_balanced(envelope(m));
  check_sections(m);
  check_encodings(in.substr(0, 4096));
  (void)decode_header_text(in.substr(0, 4096));
  auto d = downgrade_8bit(in);
  if (d) {
    Message again = parse(d->message);
    require(again.parts.size() <= m.parts.size() + 1, "downgrade keeps the structure");
  }
  return 0;
}

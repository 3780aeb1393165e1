// lib/mime/header.h - header sections of RFC 5322 messages and MIME parts, and
// the structured MIME fields (RFC 2045 Content-Type, RFC 2183
// Content-Disposition) with their parameters (RFC 2231 continuations and
// charsets).
//
// Works on views of the message; nothing here owns message bytes. Tolerant
// the way mail readers are: a parameter without a value, an unquoted value
// with tspecials, a missing closing quote are all accepted as far as they go.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::mime {

// One header field: `name` as written (no colon), `value` the raw body after
// the colon, still folded, without the final line break. `raw` is the whole
// field including continuation lines and its final line break.
struct Field {
  std::string_view name;
  std::string_view value;
  std::string_view raw;
};

// Where a header section ends. `end` is the offset just past the blank line
// (or past the last header line when there is none); `body` the offset where
// the body starts. A line that is neither a field ("name:") nor a continuation
// ends the header without a blank line, as Postfix's cleanup reads it.
struct HeaderBounds {
  std::size_t end = 0;
  std::size_t body = 0;
  bool has_blank_line = false;
};
HeaderBounds find_header_end(std::string_view text);

// Calls `fn` for each field of a header section (as bounded above), in order.
// Stops early when `fn` returns false.
void for_each_field(std::string_view header, const std::function<bool(const Field&)>& fn);

// The value of the first field named `name` (case-insensitive), if any.
std::optional<std::string_view> find_field(std::string_view header, std::string_view name);

// A field value unfolded (RFC 5322 2.2.3: CR and LF removed) and trimmed.
std::string unfold(std::string_view value);

struct Param {
  std::string name;   // lower case, without RFC 2231 "*n" / "*" suffixes
  std::string value;  // quotes and escapes removed, RFC 2231 decoded
  bool operator==(const Param&) const = default;
};

// A Content-Type or Content-Disposition value: "type/subtype; a=b" or
// "attachment; filename=x". `type` and `subtype` are lower case; `subtype`
// stays empty for a disposition. Comments (RFC 822) are skipped. RFC 2231
// continuations (name*0, name*1*) are joined in index order, %XX decoded, and
// a charset of utf-8 or us-ascii kept while iso-8859-1 is converted to UTF-8;
// other charsets leave the decoded octets as they are.
struct StructuredValue {
  std::string type;
  std::string subtype;
  std::vector<Param> params;
  const std::string* param(std::string_view name) const;  // nullptr if absent
};
StructuredValue parse_structured(std::string_view value, bool with_subtype);

// Latin-1 octets to UTF-8.
std::string latin1_to_utf8(std::string_view s);

}  // namespace posthorn::mime

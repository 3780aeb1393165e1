// lib/mime/section.h - IMAP BODY[section] specifiers (RFC 3501 6.4.5) resolved
// against a parsed message.
//
// Part numbers follow RFC 3501: the parts of a multipart are 1..n; a
// message/rfc822 part's numbers name the parts of the message it carries; a
// message that is not multipart has exactly one part, 1, its body. HEADER,
// HEADER.FIELDS(.NOT) and TEXT apply to the message itself or, after a part
// number, to a message/rfc822 part's encapsulated message; MIME is a part's
// own header and needs a part number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/mime/message.h"

namespace posthorn::mime {

struct SectionSpec {
  enum class Text { none, header, header_fields, header_fields_not, text, mime };
  std::vector<std::uint32_t> part;  // empty: the message itself
  Text text = Text::none;
  std::vector<std::string> fields;  // header_fields(_not) only
  bool operator==(const SectionSpec&) const = default;
};

// Parses what stands between "BODY[" and "]", e.g. "", "1.2", "2.MIME",
// "HEADER.FIELDS (Subject \"From\")". Keywords are case-insensitive.
// Errors: Errc::parse for anything RFC 3501's section-spec does not allow
// (a 0 part number, MIME without a part, an empty or unclosed field list).
Result<SectionSpec> parse_section(std::string_view spec);

// The index in msg.parts of the part a part number names (empty: the
// message itself, parts[0]). Errors: Errc::not_found.
Result<std::size_t> section_part(const Message& msg, const std::vector<std::uint32_t>& part);

// The section's bytes as stored in msg.data, when they form one range
// (everything but HEADER.FIELDS). Errors: Errc::not_found for a part that
// does not exist, or HEADER/TEXT after a part that is not message/rfc822;
// Errc::invalid for HEADER.FIELDS (use fetch_section).
Result<Range> section_range(const Message& msg, const SectionSpec& spec);

// The octets IMAP sends for the section: the range above, or for
// HEADER.FIELDS(.NOT) the matching fields (names compared without case,
// continuation lines kept) followed by the blank line; always with CRLF line
// breaks. Errors as section_range.
Result<std::string> fetch_section(const Message& msg, const SectionSpec& spec);

// RFC 3501 BODY[]<origin.count>: the substring from `origin`, at most `count`
// octets; empty when origin is past the end.
std::string_view partial(std::string_view data, std::uint64_t origin,
                         std::optional<std::uint64_t> count);

}  // namespace posthorn::mime

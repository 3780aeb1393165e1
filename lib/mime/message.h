// lib/mime/message.h - an RFC 5322 / MIME message parsed into a tree of parts.
//
// Purpose: one parser for imapd (ENVELOPE, BODYSTRUCTURE, BODY[section]),
// SEARCH and the smtp client's 8BITMIME downgrade. The tree holds offsets
// into the caller's buffer, never copies of bodies: the caller keeps the
// message bytes alive as long as the Message is used.
//
// Guarantees (RFC 2045, RFC 2046, RFC 3501 conventions):
//   - CRLF and bare LF line endings are both read; sizes are reported both
//     as stored (Range) and as sent on the wire with CRLF (wire_size).
//   - multipart/* is split at its boundary lines (RFC 2046 5.1.1): "--b" and
//     "--b--" with trailing white space; preamble and epilogue ignored; a
//     missing close delimiter tolerated (the last part runs to the end); the
//     line break before a delimiter belongs to the delimiter.
//   - message/rfc822 bodies in 7bit, 8bit or binary are parsed as messages:
//     the part gets one child, the encapsulated message. message/global and
//     an encoded message/rfc822 are leaves.
//   - defaults: text/plain; charset=us-ascii without Content-Type (RFC 2045
//     5.2), message/rfc822 inside multipart/digest (RFC 2046 5.1.5).
// Refusals, for hostile input: nesting deeper than kMaxDepth and parts beyond
// kMaxParts are not split further (such a body is a leaf text/plain part, or
// stays inside the last part). The parser never recurses deeper than
// kMaxDepth frames and never fails: any byte string is some message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "lib/mime/header.h"

namespace posthorn::mime {

constexpr int kMaxDepth = 100;
constexpr std::size_t kMaxParts = 10000;

// A byte range [begin, end) in the message buffer.
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
  std::string_view of(std::string_view msg) const { return msg.substr(begin, end - begin); }
  bool operator==(const Range&) const = default;
};

struct Part {
  Range header;   // the header section, with the blank line that ends it
  Range body;     // the body; for a multipart, preamble to epilogue
  // Content-Type; `content_type_given` false when the default applies.
  StructuredValue content_type;
  bool content_type_given = false;
  std::string encoding = "7bit";  // Content-Transfer-Encoding, lower case
  std::string id;                 // Content-ID, unfolded; empty when absent
  std::string description;        // Content-Description, unfolded
  bool has_id = false, has_description = false;
  StructuredValue disposition;     // type empty when absent
  std::vector<std::string> languages;  // Content-Language, comma-split
  std::string location;           // Content-Location, unfolded
  bool has_location = false;
  std::uint64_t lines = 0;        // text lines of the body
  std::uint64_t wire_size = 0;    // body size with every line break as CRLF
  std::vector<std::size_t> children;  // indices into Message::parts
  int depth = 0;                  // 0 for the message itself
  // The header asks for a multipart or message/rfc822 that was not split
  // because of kMaxDepth or kMaxParts (the part is a leaf text/plain).
  bool over_limit = false;

  bool is_multipart() const { return content_type.type == "multipart"; }
  // message/rfc822 with its encapsulated message parsed (children[0]).
  bool is_message() const { return encapsulates; }
  bool encapsulates = false;
};

struct Message {
  std::string_view data;    // the caller's buffer
  std::vector<Part> parts;  // parts[0] is the whole message; parents precede children
  const Part& root() const { return parts[0]; }
  std::string_view header(const Part& p) const { return p.header.of(data); }
  std::string_view body(const Part& p) const { return p.body.of(data); }
};

// Parses `data` (which must outlive the result). Never fails.
Message parse(std::string_view data);
// A temporary std::string would leave the Message pointing at freed memory.
template <class T>
  requires std::is_same_v<T, std::string>
Message parse(T&& data) = delete;

// Octets of `s` once every bare LF is sent as CRLF; lines of `s` (line
// breaks, plus one for a last line without a break).
std::uint64_t wire_size(std::string_view s);
std::uint64_t count_lines(std::string_view s);

// `s` with every bare LF turned into CRLF, as IMAP sends it.
std::string to_crlf(std::string_view s);

}  // namespace posthorn::mime

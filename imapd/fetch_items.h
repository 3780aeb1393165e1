// imapd/fetch_items.h - FETCH data items (RFC 3501 6.4.5): what a FETCH
// asks for, parsed once, before any message is touched.
//
// Accepted: the macros ALL, FAST, FULL; FLAGS, UID, INTERNALDATE,
// RFC822.SIZE, ENVELOPE, BODY, BODYSTRUCTURE, RFC822, RFC822.HEADER,
// RFC822.TEXT, BODY[section]<origin.count> and BODY.PEEK[...], and
// BINARY[part]<origin.count>, BINARY.PEEK[part] and BINARY.SIZE[part]
// (RFC 3516; part numbers only). The
// section is parsed by lib/mime (mime::parse_section). Anything else,
// including a partial with a zero count, is an error (BAD).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imapd/parser.h"
#include "lib/base/result.h"
#include "lib/mime/section.h"

namespace posthorn::imapd {

// What an item needs of the message's octets.
enum class FetchData { none, header, all };

struct FetchItem {
  enum class Kind {
    flags, uid, internaldate, rfc822_size, envelope, body, bodystructure,
    rfc822, rfc822_header, rfc822_text, section, binary, binary_size,
  };
  Kind kind = Kind::flags;
  FetchData data = FetchData::none;
  // Kind::section, binary, binary_size:
  mime::SectionSpec spec;
  bool peek = false;
  std::optional<std::uint64_t> origin;  // partial <origin.count>
  std::uint64_t count = 0;
  std::string name;  // the response's item name: "BODY[HEADER.FIELDS (FROM)]<0>"
};

struct FetchRequest {
  std::vector<FetchItem> items;
  bool needs_data = false;    // the message's octets must be read
  bool sets_seen = false;     // a non-PEEK body item: \Seen is set
  bool has(FetchItem::Kind k) const;
};

// Parses FETCH's item argument (an atom or a parenthesized list). Errors:
// Errc::parse with text for BAD.
Result<FetchRequest> parse_fetch_items(const Value& v);

}  // namespace posthorn::imapd

// lib/mailstore/uidlist.h - the per-folder UID list file "posthorn-uidlist".
//
// Maps each message's Maildir base name to its IMAP UID and caches what a
// listing needs without opening the message (internal date, sizes). The format
// is in lib/mailstore/FORMAT.md. A file that does not parse is reported as
// Errc::corrupt; the folder then starts over with a new UIDVALIDITY.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::mailstore {

struct UidEntry {
  std::uint32_t uid = 0;
  std::int64_t internal_date = 0;  // seconds since the epoch
  std::uint64_t size = 0;          // bytes on disk
  std::uint64_t vsize = 0;         // bytes with every line ending as CRLF
  std::string base;                // Maildir base name (before ':')
};

struct Uidlist {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::vector<UidEntry> entries;  // strictly ascending uid, unique base names
};

// Parses the file's text. Errors: Errc::corrupt naming the line.
Result<Uidlist> parse_uidlist(std::string_view text);

// The file's text; parse_uidlist(format_uidlist(x)) gives x back.
std::string format_uidlist(const Uidlist& list);

// Whether a base name can be stored (no control characters, not empty).
bool storable_base(std::string_view base);

}  // namespace posthorn::mailstore

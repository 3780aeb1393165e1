// lib/mailstore/uidlist.h - the per-folder UID list file "posthorn-uidlist".
//
// Maps each message's Maildir base name to its IMAP UID and caches what a
// listing needs without opening the message (internal date, sizes). Version 2
// also records where each file was (new/ or cur/, and its flags) at the scan
// that wrote the list, with the times of new/ and cur/ before that scan, so
// that a later session can take the folder from the list alone while the
// directories show no change (Folder::sync). The format is in
// lib/mailstore/FORMAT.md; version 1 files are read too. A file that does not
// parse is reported as Errc::corrupt; the folder then starts over with a new
// UIDVALIDITY.
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
  // Where the file was when the list was written: the rest of its name from
  // the ':' on (":2,S"; empty for none) and its directory. Meaningful only in
  // a list whose stamps are valid (a version 1 file has none).
  std::string info;
  bool in_new = false;
};

// The identity and times of a directory (new/ or cur/). A change of any entry
// gives the directory a later mtime and ctime, unless it happens within the
// same clock tick as the previous one: callers trust a stamp only when it was
// taken well after the directory's last change (Folder::kRacyInterval).
struct DirStamp {
  bool valid = false;
  std::int64_t sec = 0, nsec = 0;    // mtime
  std::int64_t csec = 0, cnsec = 0;  // ctime: not settable by utime(2)
  std::uint64_t ino = 0;
  bool operator==(const DirStamp&) const = default;
};

struct Uidlist {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::vector<UidEntry> entries;  // strictly ascending uid, unique base names
  // new/ and cur/ before the scan that wrote the list, when both could be
  // trusted; invalid otherwise (then `info` and `in_new` say nothing).
  DirStamp new_stamp, cur_stamp;
};

// Parses the file's text. Errors: Errc::corrupt naming the line.
Result<Uidlist> parse_uidlist(std::string_view text);

// The file's text; parse_uidlist(format_uidlist(x)) gives x back.
std::string format_uidlist(const Uidlist& list);

// Whether a base name can be stored (no control characters, not empty).
bool storable_base(std::string_view base);

}  // namespace posthorn::mailstore

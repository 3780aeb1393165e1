// lib/mailstore/names.h - folder names and Maildir file names.
//
// Folder names are what callers (imapd, pop3d, local) give: "INBOX", "Sent",
// "Archive.2024", with '.' as the hierarchy separator, already in the on-disk
// encoding (imapd converts UTF-8 to modified UTF-7 first, as Dovecot stores it).
// A name is mapped to exactly one directory directly under the store root
// (Maildir++: "" for INBOX, ".Archive.2024" otherwise), so no name can reach
// outside the root: '/', empty hierarchy parts (hence "..", leading/trailing
// '.'), control characters, bytes >= 0x80 and over-long names are refused.
//
// Maildir file names follow cr.yp.to/proto/maildir.html with the Dovecot
// extensions: "<unique>[,S=<size>][,W=<vsize>][:2,<flags>]", flags in ASCII
// order, upper case letters the standard flags, a-z keyword indexes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::mailstore {

// System flags, one bit each, in Maildir letter order.
enum Flag : unsigned {
  kDraft = 1u << 0,     // D  \Draft
  kFlagged = 1u << 1,   // F  \Flagged
  kPassed = 1u << 2,    // P  $Forwarded (resent/bounced/forwarded)
  kReplied = 1u << 3,   // R  \Answered
  kSeen = 1u << 4,      // S  \Seen
  kTrashed = 1u << 5,   // T  \Deleted
};
inline constexpr unsigned kAllFlags = 0x3f;
inline constexpr int kMaxKeywords = 26;  // letters a..z

// Validates `name` and returns it in canonical form ("inbox" -> "INBOX",
// "inbox.x" -> "INBOX.x"). Errors: Errc::invalid with the reason.
Result<std::string> canonical_folder_name(std::string_view name);

// The directory name under the root for a canonical folder name: "" for INBOX,
// "." + name otherwise.
std::string folder_dir_name(std::string_view canonical);

bool is_inbox(std::string_view canonical);

// A parsed Maildir file name.
struct FileName {
  std::string base;        // up to the first ':' (the message's identity)
  std::uint64_t size = 0;  // from ",S=", 0 if absent
  std::uint64_t vsize = 0; // from ",W=", 0 if absent
  bool has_size = false;
  bool has_vsize = false;
  unsigned flags = 0;           // Flag bits
  std::uint32_t keywords = 0;   // bit i = letter 'a' + i
  std::string other_flags;      // unknown flag characters, kept on rename
};

FileName parse_file_name(std::string_view name);
// The ",S=" and ",W=" fields of a base name into `out`.
void parse_size_fields(std::string_view base, FileName& out);
// The flags of an info part (":2,<flags>", or "" for none) into `out`'s
// flags, keywords and other_flags.
void parse_info(std::string_view info, FileName& out);

// The name for cur/: base + ":2," + flags and keyword letters in ASCII order.
std::string cur_file_name(std::string_view base, unsigned flags, std::uint32_t keywords,
                          std::string_view other_flags = {});

// A new unique base name "<sec>.M<usec>P<pid>Q<n>.<host>" (Maildir protocol);
// '/', ':' and ',' in the host name are escaped as \057, \072, \054 so that
// they cannot be mistaken for a path, the info part or a size field.
std::string unique_base();

// Arrival order for names we did not write: leading seconds, then the name
// in natural order (digit runs compared as numbers: "M99123" before "M100234").
bool arrived_before(std::string_view a, std::string_view b);
// The leading seconds arrived_before() compares first (0 without digits).
unsigned long long arrival_seconds(std::string_view name);

}  // namespace posthorn::mailstore

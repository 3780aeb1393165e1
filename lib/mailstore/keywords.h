// lib/mailstore/keywords.h - the per-folder keyword table "dovecot-keywords".
//
// IMAP keywords ($Junk, $Label1, ...) are kept in Maildir names as the letters
// a..z; this file maps letter index to name. It uses Dovecot's file name and
// format ("<index> <name>" per line), so Dovecot and Posthorn agree on what a
// letter means in a mailbox either of them wrote.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/mailstore/names.h"

namespace posthorn::mailstore {

// names[i] is the keyword of letter 'a' + i, or "" when the letter is unused.
struct KeywordTable {
  std::array<std::string, kMaxKeywords> names;

  // Index of `name` (compared without case, as IMAP does), or -1.
  int find(std::string_view name) const;
  // Index of `name`, adding it in the first free slot. Errors: Errc::too_large
  // when all 26 letters are taken, Errc::invalid for a name that is not an
  // IMAP atom (space, parentheses, '\\', '%', '*', '"', ']', '{', controls).
  Result<int> intern(std::string_view name);
  // The names of the bits set in `bits` (unnamed letters are left out).
  std::vector<std::string> names_of(std::uint32_t bits) const;
};

bool valid_keyword(std::string_view name);

// Lenient on purpose: lines that do not parse are skipped (a damaged file
// loses the names of some letters, never a message).
KeywordTable parse_keywords(std::string_view text);
std::string format_keywords(const KeywordTable& t);

}  // namespace posthorn::mailstore

// imapd/mailbox_name.h - mailbox names as IMAP clients send them and as the
// store keeps them.
//
// IMAP4rev1 names are in modified UTF-7 (RFC 3501 5.1.3), and the store keeps
// them in that same encoding (Dovecot's on-disk names), so a valid name goes
// to lib/mailstore unchanged; the hierarchy separator is "." on both sides.
// lib/mailstore then refuses anything that could leave the user's store
// ("/", "..", empty levels, control characters, over-long names).
//
// Refusals here: malformed modified UTF-7 (an unterminated or empty "&..-"
// run, characters outside the modified base64 alphabet, bits left over, a
// printable ASCII character or a broken surrogate encoded in base64), and
// for new names (CREATE, RENAME's target) the wildcards "%" and "*".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::imapd {

inline constexpr char kSeparator = '.';

bool valid_mutf7(std::string_view name);
// UTF-8 of a valid modified UTF-7 name; nullopt when it is not valid.
std::optional<std::string> mutf7_to_utf8(std::string_view name);
// Modified UTF-7 of a UTF-8 name; nullopt when it is not valid UTF-8.
std::optional<std::string> utf8_to_mutf7(std::string_view name);

// The store's name for a mailbox name a client sent. A trailing separator is
// dropped (RFC 3501 6.3.3: "foo." asks for "foo"); `new_name` also refuses
// wildcards. Errors: Errc::invalid with text fit for a NO response.
Result<std::string> store_name(std::string_view imap_name, bool new_name = false);

// LIST pattern matching (RFC 3501 6.3.8): "*" matches anything, "%" anything
// but the separator; other characters match themselves, except that a
// leading "INBOX" matches without regard to case. Patterns longer than
// kMaxPattern octets match nothing.
inline constexpr std::size_t kMaxPattern = 1024;
bool list_match(std::string_view pattern, std::string_view name);

}  // namespace posthorn::imapd

// lib/auth/password.h - stored password hashes: making them and checking a
// password against one.
//
// A stored entry is a crypt(3) hash, optionally prefixed by a Dovecot-style
// scheme name in braces:
//
//   {SHA512-CRYPT}$6$salt$hash     SHA-512 crypt
//   {SHA256-CRYPT}$5$salt$hash     SHA-256 crypt
//   {BLF-CRYPT}$2b$10$...          bcrypt ($2a$, $2b$, $2y$)
//   {CRYPT}...  or no prefix       any hash libcrypt knows ($6$, $5$, $2b$,
//                                  yescrypt $y$, ...), as in /etc/shadow
//   {PLAIN}secret                  the password itself; accepted only when
//                                  the caller allows it (auth_allow_plain_scheme)
//
// Guarantees: comparisons take a time that does not depend on where the
// candidate and the stored value first differ (CRYPTO_memcmp over equal
// lengths; {PLAIN} compares SHA-256 digests, so not even the length leaks).
// A scheme prefix must agree with the hash it labels ({SHA512-CRYPT} with
// $6$...). Entries that cannot match any password ("!", "*", "!$6$..." as
// shadow marks locked accounts, or an empty entry) are "locked", not errors.
// Refusals: unknown schemes and malformed entries are reported with a reason
// for the administrator's log; they never match.
#pragma once

#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::auth {

enum class Scheme { sha512_crypt, sha256_crypt, blf_crypt, plain };

// "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "PLAIN" (any case, braces
// optional). Errc::parse naming the known ones otherwise.
Result<Scheme> parse_scheme(std::string_view name);
std::string_view scheme_name(Scheme s);

// A new entry for `password`, with its scheme prefix: "{SHA512-CRYPT}$6$...".
// Salt from the system's random source; bcrypt at cost 10. Errors:
// Errc::invalid for a password holding a NUL (crypt(3) takes C strings) or
// an empty one; Errc::io when libcrypt fails.
Result<std::string> make_hash(Scheme scheme, std::string_view password);

struct Verdict {
  enum Kind { match, mismatch, locked, unusable } kind = mismatch;
  std::string problem;  // unusable: why (for the log; never holds the hash)
  bool ok() const { return kind == match; }
};

// Checks `password` against the stored `entry`.
Verdict verify_password(std::string_view entry, std::string_view password, bool allow_plain);

// Spends about the time of one check against a SHA512-CRYPT entry, for logins
// that have no entry, so that a reply's delay does not tell whether the
// login exists.
void spend_check_time(std::string_view password);

}  // namespace posthorn::auth

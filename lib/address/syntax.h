// lib/address/syntax.h - character classes and checks shared by the parsers
// in this directory (path.cc, header.cc). Not for use outside lib/address.
#pragma once

#include <cstddef>
#include <string_view>

#include "lib/address/address.h"

namespace posthorn::address::internal {

// RFC 5322 3.2.3 atext (ASCII only; callers decide about octets >= 0x80).
bool is_atext(unsigned char c);
// Octets that may stand in a local part once unquoted: 0x20-0x7e, and
// octets >= 0x80 (their UTF-8 validity is checked separately).
bool is_local_octet(unsigned char c);
// The length of the wire local part at the start of `s`: a quoted string up
// to its closing quote, or a run of atext, '.' and octets >= 0x80. Returns 0
// for an unterminated quoted string or when `s` starts with neither.
std::size_t scan_local(std::string_view s);
// Validates unquoted local-part octets: is_local_octet for each, UTF-8 valid,
// non-ASCII only with opts.smtputf8.
Result<void> check_local_octets(std::string_view s, const Options& opts);
// RFC 5321 4.5.3.1 limits on the canonical form of `m`.
Result<void> check_lengths(const Mailbox& m);

}  // namespace posthorn::address::internal

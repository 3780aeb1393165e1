// lib/bounce/fields.h - values of DSN fields and notice text, made from
// untrusted strings: reply texts of remote servers, relay names, envelope
// addresses and ORCPT values that came over SMTP or from a local user.
//
// Guarantees: every function here returns text without CR, LF, NUL or other
// control characters (but the CRLF and folding that field() and wrap() add
// themselves), so a value can never end its field or the part it is in. A
// caller says whether UTF-8 may stay (RFC 6533 message/global-delivery-status
// and a utf-8 text part) or must become ASCII.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace posthorn::bounce {

// The valid UTF-8 sequence (RFC 3629: no overlong forms, surrogates or values
// past U+10FFFF) that starts at s[i]: its length (1..4), and its code point
// in `cp`; 0 when the octets there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp);

// RFC 6533 section 3 encoding of an address for the "utf-8" address type.
// "\x{HEX}" (upper-case hex of the code point, at least two digits) stands for
// each control character, space, '+', '=', '\' and DEL, and for each non-ASCII
// code point unless `keep_utf8` (utf-8-addr-unitext, for global DSNs; else
// utf-8-addr-xtext, pure ASCII). Octets that are not valid UTF-8 become
// \x{FFFD}; NUL is dropped (it has no encoding). A "\x{HEX}" already in
// `addr` stays as it is when `keep_escapes` (an ORCPT is already encoded).
std::string utf8_addr_encode(std::string_view addr, bool keep_utf8, bool keep_escapes = false);

// A Final-Recipient / Original-Recipient / X-Posthorn-Sender value:
// "rfc822; ADDR" for an address of printable ASCII, else "utf-8; " and
// utf8_addr_encode(addr, global).
std::string address_field(std::string_view addr, bool global);

// The Original-Recipient value for an ORCPT kept as "type;address" (xtext
// decoded): "rfc822; ADDR" as given when ADDR is printable ASCII; a utf-8
// type re-encoded for the part (xtext in message/delivery-status, unitext in
// the global one); a non-ASCII rfc822 address as utf-8. "" when it cannot
// be used (no ';', a type that is not an atom, an empty address, a non-ASCII
// address of another type).
std::string orcpt_field(std::string_view orcpt, bool global);

// True for an RFC 3463 status "C.S.D": C one of 2, 4, 5; S and D 1 to 3 digits.
bool valid_status(std::string_view s);

// The Diagnostic-Code of a reason text (RFC 3464 2.3.6): type "smtp" and the
// reply when the text is an SMTP reply ("550 5.1.1 ...") or Posthorn's
// "host H said: REPLY (in reply to ... command)"; otherwise type
// "X-Posthorn" and the whole text. The text is trimmed, not yet made safe.
struct Diagnostic {
  std::string type;
  std::string text;
};
Diagnostic diagnostic_code(std::string_view reason);

// The Remote-MTA name of a relay as delivery agents report it:
// "mx.example.org" from "mx.example.org[192.0.2.1]:25", "[192.0.2.1]" from
// "[192.0.2.1]:25" or "unknown[192.0.2.1]:25"; "" for "", "local" and "none".
// Only printable ASCII stays.
std::string remote_mta(std::string_view relay);

// One line of text: control characters become spaces and the ends are
// trimmed. Other octets stay when ASCII, and non-ASCII ones as valid UTF-8
// when `utf8`; otherwise each non-ASCII character (or invalid octet) is "?".
std::string one_line(std::string_view s, bool utf8);

// "Name: value" CRLF, folded (RFC 5322 2.2.3) before spaces so that lines
// stay within 78 octets where the words allow; a word too long for a line
// is cut at 990 octets (unfolding then shows a space there). Unfolding gives
// the value back otherwise. `value` must already be one line.
std::string field(std::string_view name, std::string_view value);

// Human text wrapped at `width` columns at spaces, each continuation line
// starting with `indent`; CRLF after every line. One line of input.
std::string wrap(std::string_view text, std::size_t width, std::string_view indent);

// Header text for Subject or a comment: as is when ASCII, else RFC 2047
// "B" encoded words in `charset`, separated by spaces (field() folds there).
std::string encode_header_text(std::string_view text, std::string_view charset);

// True when `s` can travel as 8bit MIME (RFC 2045 2.8): no NUL, CR and LF only
// as CRLF pairs, no line over 998 octets.
bool valid_8bit(std::string_view s);

// `s` made valid_8bit: bare CR and LF become CRLF, NUL goes, and a line over
// 998 octets is broken with CRLF and a space (as a header continuation).
std::string to_8bit_lines(std::string_view s);

// True when `s` has an octet >= 0x80.
bool has_8bit(std::string_view s);

}  // namespace posthorn::bounce

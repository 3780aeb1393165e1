// lib/address/address.h - mail addresses: the value type, its canonical form,
// errors, and the small helpers every program needs (quoting, comparison,
// recipient delimiters).
//
// Purpose:    one representation of a mailbox for smtpd, cleanup, qmgr, local
//             and sendmail, and one set of syntax rules (RFC 5321 4.1.2, RFC 5322
//             3.4, RFC 6531 3.3). Parsers live in path.h (SMTP MAIL/RCPT
//             arguments) and header.h (To:, Cc:, From: ... address lists).
// Guarantees: a Mailbox produced by any parser here has
//               - a local part of printable ASCII (0x20-0x7e) and, only when
//                 SMTPUTF8 was allowed, valid UTF-8; never NUL, CR, LF, TAB;
//               - a domain that is empty (unqualified), a validated domain name
//                 folded to ASCII lower case, or a validated address literal
//                 ("[192.0.2.1]", "[IPv6:2001:db8::1]", hex in lower case);
//               - lengths within RFC 5321 4.5.3.1: local part 64, domain 255,
//                 path 256 octets (counted on the canonical form);
//             and parse(to_string(m)) == m.
// Refusals:   the percent hack ("user%host@relay") and bang paths ("host!user")
//             are never interpreted: '%' and '!' are ordinary local-part
//             characters, so "a%b@relay" is the mailbox "a%b" at relay and is
//             routed to relay only (no open relay through them). Source routes
//             are stripped (RFC 5321 appendix C) and never followed.
//             U-labels are checked as UTF-8 and LDH-like only; IDNA2008 mapping
//             and A-label conversion belong to the code that resolves domains.
//
// Errors: every parser returns Result<T>. Error::code is the coarse Errc
// (parse, too_large, unsupported); code_of(error) gives the precise Code below,
// and Error::detail is a fixed short text that contains no peer bytes, so it
// may be used in an SMTP reply. The replies we expect callers to send:
//
//   Code              Errc         MAIL FROM              RCPT TO
//   syntax            parse        501 5.1.7              501 5.1.3
//   bad_domain        parse        501 5.1.7              501 5.1.3
//   bad_literal       parse        501 5.1.7              501 5.1.3
//   no_domain         parse        501 5.1.7              501 5.1.3   (strict mode)
//   bad_utf8          parse        501 5.1.7              501 5.1.3
//   local_too_long    too_large    553 5.1.7              553 5.1.3
//   domain_too_long   too_large    553 5.1.8              553 5.1.2
//   path_too_long     too_large    501 5.5.4              501 5.5.4   (RFC 5321 4.5.3.1.10)
//   needs_smtputf8    unsupported  553 5.6.7              553 5.6.7   (RFC 6531 3.7.4.1)
//   bad_param         parse        501 5.5.4              501 5.5.4
//   bad_xtext         parse        501 5.5.4              501 5.5.4
#pragma once

#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::address {

// RFC 5321 4.5.3.1.1-3.
inline constexpr std::size_t kMaxLocal = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;  // "<" local "@" domain ">"
inline constexpr std::size_t kMaxLabel = 63;  // RFC 1035 2.3.4

enum class Code {
  syntax,           // malformed address or command argument
  bad_domain,       // a domain that is not LDH labels (empty label, bad char, hyphen)
  bad_literal,      // an address literal inet_pton refuses, or an unknown tag
  no_domain,        // unqualified address where one is required (strict paths)
  bad_utf8,         // invalid UTF-8 (overlong, surrogate, truncated, > U+10FFFF)
  local_too_long,   // local part over kMaxLocal octets
  domain_too_long,  // domain over kMaxDomain octets, or a label over kMaxLabel
  path_too_long,    // path over kMaxPath octets
  needs_smtputf8,   // non-ASCII address without SMTPUTF8
  bad_param,        // malformed ESMTP parameter
  bad_xtext,        // malformed xtext (RFC 3461 4)
  other,            // code_of() on an Error that did not come from this module
};

// The Error for `c`: Errc as in the table above, detail = reply_text(c).
Error make_address_error(Code c);
// The Code of an error returned by this module; Code::other for any other Error
// (it matches Errc and detail, so read it before changing the detail).
Code code_of(const Error& e);
// Short text for an SMTP reply ("Bad address syntax", "Local part too long", ...).
std::string_view reply_text(Code c);

// What the parsers accept.
struct Options {
  // Allow UTF-8 local parts and U-label domains (RFC 6531). Off: a non-ASCII
  // address is Code::needs_smtputf8. Invalid UTF-8 is refused either way.
  bool smtputf8 = false;
  // Paths only: accept what Postfix accepts with strict_rfc821_envelopes = no
  // (spaces after the colon, missing angle brackets, several spaces between
  // parameters, unqualified addresses). Strict mode refuses all of these.
  bool lenient = false;
};

// A mailbox: local part as octets (quoting removed), domain as described above.
// An empty domain means "unqualified" (a header "root", an SMTP <postmaster>);
// the caller appends myorigin or refuses it.
struct Mailbox {
  std::string local;
  std::string domain;
  bool qualified() const { return !domain.empty(); }
  bool operator==(const Mailbox&) const = default;
};

// The canonical external form: the local part quoted only when it is not a
// dot-atom (quote_local), then "@domain" when qualified. Input: a Mailbox from
// a parser here (or one that satisfies the guarantees above).
std::string to_string(const Mailbox& m);

// True when `local` may appear unquoted (RFC 5321 Dot-string, with UTF-8 as
// RFC 6531 allows): non-empty atoms of atext separated by single dots.
bool is_dot_atom(std::string_view local);
// The wire form of a local part: as is when is_dot_atom, otherwise a quoted
// string with '"' and '\' escaped. Other characters are passed through.
std::string quote_local(std::string_view local);
// The octets of a wire local part (a Dot-string or a Quoted-string with
// quoted pairs, RFC 5321 4.1.2). Errors: syntax, bad_utf8, needs_smtputf8,
// local_too_long (counted on the canonical form, quote_local of the result,
// so needless quotes and quoted pairs do not count).
Result<std::string> unquote_local(std::string_view wire, const Options& opts = {});

// Same mailbox: local parts equal octet for octet (RFC 5321 2.4: only the
// receiving host may fold them), domains equal ignoring ASCII case.
bool same_address(const Mailbox& a, const Mailbox& b);

// Recipient delimiter split (Postfix recipient_delimiter): `local` is cut at
// the first octet that is in `delimiters`. Not split: an empty delimiter set,
// no delimiter present, a delimiter in first position (the base would be
// empty), "postmaster" and "mailer-daemon" (any case), and, when '-' is a
// delimiter, "owner-*" and "*-request" (mailing-list convention).
struct LocalSplit {
  std::string base;       // "user"
  char delimiter = '\0';  // '+', or '\0' when not split
  std::string extension;  // "ext" (may be empty for "user+")
};
LocalSplit split_extension(std::string_view local, std::string_view delimiters);

// Checks a domain as written after '@' (no comments or spaces) and returns it
// canonical: labels folded to ASCII lower case, literals validated with
// inet_pton (so IPv6 follows RFC 4291, which allows "::" for a single group
// where RFC 5321 IPv6-comp does not; glibc refuses IPv4 octets with leading
// zeros), the "IPv6:" tag spelled so and the hex digits in lower case. Errors: bad_domain, bad_literal, domain_too_long, needs_smtputf8,
// bad_utf8.
Result<std::string> canonical_domain(std::string_view domain, const Options& opts = {});

}  // namespace posthorn::address

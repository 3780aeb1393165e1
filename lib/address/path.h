// lib/address/path.h - RFC 5321 paths as smtpd reads them from MAIL FROM and
// RCPT TO, their ESMTP parameters, and xtext (RFC 3461 section 4).
//
// Grammar (RFC 5321 4.1.2, RFC 6531 3.3):
//   Path = "<" [ A-d-l ":" ] Mailbox ">"   ; A-d-l = "@" Domain *("," "@" Domain)
//   Mailbox = Local-part "@" ( Domain / address-literal )
//   Mail-parameters = esmtp-param *(SP esmtp-param)
//   esmtp-param = esmtp-keyword ["=" esmtp-value]
// plus "<>" (the null reverse-path) and "<postmaster>" (RCPT only). The parser
// accepts both whatever the verb; Path::null and Path::is_postmaster() let the
// caller refuse them where they do not belong.
//
// Strict mode (the default) is the grammar above and nothing else. Lenient
// mode (Options::lenient, Postfix's strict_rfc821_envelopes = no) also takes:
// spaces or tabs before the path, a path without angle brackets (it ends at
// the first space), runs of spaces and tabs between parameters and at the end,
// and unqualified addresses ("<root>"); the caller then appends myorigin or
// refuses it (reject_non_fqdn_*).
//
// Limits: local part and domain are counted on their canonical forms (as
// address.h says); the 256-octet path limit is applied to the path as sent,
// source route and needless quoting included, and to the canonical form.
//
// SMTPUTF8: a non-ASCII path or parameter value is accepted when
// Options::smtputf8 is set or when the parameters themselves contain SMTPUTF8
// (RFC 6531 3.4: MAIL FROM:<...> SMTPUTF8 enables it for that command; the
// caller must still refuse the parameter when it did not offer the extension).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/address/address.h"

namespace posthorn::address {

struct Path {
  bool null = false;   // "<>"; mailbox is then empty
  Mailbox mailbox;     // source route stripped (RFC 5321 C)
  // True for "<postmaster>" (any case, no domain); "<postmaster@domain>" is
  // for the caller to recognise as one of its own domains.
  bool is_postmaster() const;
  bool operator==(const Path&) const = default;
};

struct EsmtpParam {
  std::string keyword;                 // upper-cased ("SIZE", "NOTIFY")
  std::optional<std::string> value;    // as given; no value: nullopt ("SMTPUTF8")
  bool operator==(const EsmtpParam&) const = default;
};

struct PathArg {
  Path path;
  std::vector<EsmtpParam> params;  // in order given; duplicates are the caller's to refuse
};

// Parses the argument of MAIL FROM: or RCPT TO:, i.e. the text after the
// colon and before CRLF ("<a@b.example> SIZE=100"). Errors: any Code except
// other (see address.h); NUL, CR, LF or other control characters in the path
// are Code::syntax, in a parameter Code::bad_param.
Result<PathArg> parse_path_arg(std::string_view arg, const Options& opts = {});

// Parses a lone path ("<a@b.example>", "<>"), as a stored envelope or a
// command-line recipient in path form. Same rules as parse_path_arg without
// parameters.
Result<Path> parse_path(std::string_view path, const Options& opts = {});

// Parses the external form of a mailbox as to_string(Mailbox) writes it
// ("user@example.org", "\"a b\"@example.org"), as found in queue files, maps
// and configuration. Unqualified forms ("root") only with Options::lenient,
// "postmaster" always. Same errors as parse_path; an empty text is syntax.
// parse_mailbox(to_string(m)) == m for every Mailbox from these parsers
// (with the options it was parsed with).
Result<Mailbox> parse_mailbox(std::string_view text, const Options& opts = {});

// "<" to_string(mailbox) ">", or "<>" for the null path.
std::string to_string(const Path& p);

// The first parameter named `keyword` (case-insensitive), or nullptr.
const EsmtpParam* find_param(const std::vector<EsmtpParam>& params, std::string_view keyword);

// xtext (RFC 3461 4): "+" followed by two upper-case hex digits stands for an
// octet; other octets must be "!".."~" except "+" and "=". Errors:
// Code::bad_xtext for any other octet, lower-case or missing hex digits.
Result<std::string> xtext_decode(std::string_view xtext);
// Encodes every octet outside "!".."~", and "+" and "=", as "+XX".
std::string xtext_encode(std::string_view text);

// ORCPT=addr-type ";" xtext (RFC 3461 4.2): the type ("rfc822", as given)
// and the decoded address. Errors: bad_param (no ';', bad type), bad_xtext.
struct Orcpt {
  std::string type;
  std::string address;
};
Result<Orcpt> parse_orcpt(std::string_view value);

}  // namespace posthorn::address

// lib/address/header.h - RFC 5322 address lists, as in To:, Cc:, Bcc:, From:,
// Sender: and Reply-To: (sendmail -t, cleanup).
//
// Accepts (RFC 5322 3.4 with the obsolete forms of 4.4 that real mail has):
//   - display names: atoms, quoted strings and "." (obs-phrase); encoded words
//     (RFC 2047) are atoms and are returned as they are, not decoded;
//   - angle addresses, with an obsolete route ("<@a,@b:u@d>") stripped;
//   - groups ("undisclosed-recipients:;", "team: a@x, b@y;"), a missing ';'
//     at the very end tolerated; groups do not nest;
//   - comments, nested to any depth (scanned without recursion);
//   - folding whitespace: the value may still be folded (CRLF or LF followed by
//     a space or tab), and may end with one CRLF or LF; any other CR or LF is
//     an error;
//   - CFWS between the words and dots of a local part or domain (obs-local-part,
//     obs-domain), so "john . doe @ example . org" is john.doe@example.org;
//   - empty list elements ("a@x,,b@y", a leading or trailing comma);
//   - unqualified addresses ("root", "Root <root>"): Mailbox::domain is empty
//     and the caller appends myorigin.
// Addresses obey the same rules as SMTP paths (address.h): LDH domains folded
// to lower case, validated literals, RFC 5321 lengths on the canonical form,
// UTF-8 only with Options::smtputf8 (RFC 6532), so every mailbox returned can
// become an envelope address. Display names and comments are not addresses:
// they may hold 8-bit text in any charset, kept as given. Options::lenient has
// no effect here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/address/address.h"

namespace posthorn::address {

struct NameAddr {
  std::string display_name;  // quoting removed, words joined by one space; may be empty
  Mailbox mailbox;
  bool operator==(const NameAddr&) const = default;
};

// One element of an address list: a mailbox, or a group of 0..n mailboxes.
struct HeaderAddress {
  bool is_group = false;
  std::string group_name;           // is_group only; as display_name
  std::vector<NameAddr> mailboxes;  // exactly one when !is_group
  bool operator==(const HeaderAddress&) const = default;
};

using AddressList = std::vector<HeaderAddress>;

// Parses a header field body (after "To:"). An empty or all-blank value is an
// empty list. Errors: Code::syntax (unbalanced quotes, brackets, parentheses,
// NUL, bare CR/LF, nested groups, junk between addresses) and the address
// codes of address.h; the first error fails the whole list.
Result<AddressList> parse_address_list(std::string_view value, const Options& opts = {});

// Every mailbox in `list`, groups flattened, in order.
std::vector<Mailbox> all_mailboxes(const AddressList& list);

// Renders a list as a header body: "a@x, Name <b@y>, team: c@z;" with
// display names quoted when needed. parse_address_list(to_string(l)) == l.
std::string to_string(const AddressList& list);
std::string to_string(const NameAddr& a);

}  // namespace posthorn::address

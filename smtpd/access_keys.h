// smtpd/access_keys.h - access(5) tables: the keys Postfix looks up, in its
// order, and what a value means.
//
// Lookup orders ("first match wins"; pattern tables such as regexp: see the
// whole string only, the first key of each order):
//   address (check_sender_access, check_recipient_access), user+ext@domain:
//     user+ext@domain, user@domain, domain, parent domains, user+ext@, user@
//     (the +ext forms only when recipient_delimiter splits the local part;
//     the null sender is looked up as smtpd_null_access_lookup_key "<>")
//   domain (check_helo_access; the domain part above): the name, then each
//     parent closest first, as ".parent" - or as "parent" when
//     parent_domain_matches_subdomains lists smtpd_access_maps
//   client (check_client_access): the host name (unless "unknown") and its
//     parents, then the address and its network prefixes: 192.0.2.1,
//     192.0.2, 192.0, 192; IPv6 as written, then 2001:db8:0:0:0:0:0:1 down
//     to 2001 (groups without leading zeros, "::" expanded)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::smtpd {

std::vector<std::string> domain_keys(std::string_view domain, bool parent_matches_subdomains);
std::vector<std::string> address_keys(std::string_view address, std::string_view delimiters,
                                      bool parent_matches_subdomains);
std::vector<std::string> client_keys(std::string_view name, std::string_view addr,
                                     bool parent_matches_subdomains);

// One access(5) value.
struct AccessAction {
  enum Kind {
    dunno,   // DUNNO, or a value that only names no action
    permit,  // OK, PERMIT, an all-numeric value
    reject,  // REJECT [text], 5NN text
    defer,   // DEFER [text], 4NN text
    invalid, // anything else (a configuration error)
  } kind = dunno;
  int code = 0;          // 4NN/5NN given in the value; 0 = the *_code parameter
  std::string dsn;       // "5.1.1" when the text starts with one
  std::string text;      // the rest; "" = "Access denied"
};
AccessAction parse_access_value(std::string_view value);

}  // namespace posthorn::smtpd

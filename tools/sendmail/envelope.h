// tools/sendmail/envelope.h - the envelope sendmail builds from its command
// line and the user's account.
//
// Addresses are parsed with lib/address: a recipient argument is an RFC 5322
// address list ("alice", "bob@example.org", "Bob <bob@example.org>, carol"),
// as Postfix reads it; the sender (-f/-r) is one mailbox, "<mailbox>", or
// "" / "<>" for the null sender. Unqualified addresses stay so: cleanup
// appends myorigin. Non-ASCII addresses are accepted (RFC 6531) and make
// the message SMTPUTF8.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::sendmail {

// Errc::invalid: "bad sender address \"x\": Bad address syntax".
Result<std::string> parse_sender(const std::string& given);
// Every mailbox of every argument, in order; Errc::invalid naming the
// argument. An argument that holds no address at all is an error too.
Result<std::vector<std::string>> parse_recipients(const std::vector<std::string>& args);

// True when any byte of `s` is not ASCII.
bool has_non_ascii(std::string_view s);

struct Account {
  std::string login;      // the user name, the sender when -f is not given
  std::string full_name;  // the GECOS name, up to the first ','
};
// The account of `uid` (getpwuid_r). Errc::not_found when it has none.
Result<Account> account_of(uid_t uid);

// The full name of an added From: field: -F, else $NAME, else the GECOS name.
std::string choose_full_name(const std::optional<std::string>& given, const char* name_env,
                             const std::string& gecos);

}  // namespace posthorn::sendmail

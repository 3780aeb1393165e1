// imapd/format.h - the small pieces of IMAP syntax the commands share:
// flag lists, date-time and date values, and strings in responses.
//
// Flags map to Maildir letters as lib/mailstore keeps them: \Answered R,
// \Flagged F, \Deleted T, \Seen S, \Draft D, and the keyword $Forwarded P
// (Dovecot does the same); other keywords are the a..z letters named in
// dovecot-keywords. \Recent is a session property (RFC 3501 2.3.2) and is
// never stored.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imapd/parser.h"
#include "lib/base/result.h"
#include "lib/mailstore/folder.h"

namespace posthorn::imapd {

// "\Answered \Flagged \Deleted \Seen \Draft $Forwarded": what a mailbox offers.
std::string system_flag_names();

// "(\Seen $Forwarded kw \Recent)": a message's flags.
std::string flag_list(unsigned flags, const std::vector<std::string>& keywords, bool recent);

// Flags from a STORE or APPEND argument: one flag, or a list of them.
// \Recent is ignored (it cannot be set); an unknown "\"-flag and a keyword
// that is not an atom are errors (Errc::parse, text for BAD).
Result<mailstore::FlagSet> parse_flags(const Value& v);
// The same for a list of flag values (STORE's flags without parentheses).
Result<mailstore::FlagSet> parse_flag_values(const std::vector<Value>& vs, std::size_t from);

// RFC 3501 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d").
std::string format_date_time(std::int64_t t);
// Errors: Errc::parse.
Result<std::int64_t> parse_date_time(std::string_view s);

// RFC 3501 date: "d-Mon-yyyy" or "dd-Mon-yyyy" (SEARCH), as days since the
// epoch. Errors: Errc::parse.
Result<std::int64_t> parse_date(std::string_view s);
// Days since the epoch of the calendar date of `t` in local time.
std::int64_t local_day(std::int64_t t);
// Days since the epoch of a calendar date.
std::int64_t days_from_civil(int y, unsigned m, unsigned d);

// A response string: quoted when it can be, a literal otherwise.
std::string quote(std::string_view s);
// An astring for a mailbox name in LIST/LSUB/STATUS responses.
std::string mailbox_astring(std::string_view name);
// A quoted string that may hold UTF-8 (RFC 9051, RFC 6855); a literal only
// for CR, LF or NUL.
std::string quote_utf8(std::string_view s);

}  // namespace posthorn::imapd

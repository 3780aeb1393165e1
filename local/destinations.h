// local/destinations.h - the right-hand side of an alias, a line of a
// ~/.forward file or of a :include: file, as local acts on it.
//
// Purpose:    turn the text into destinations (aliases(5)): addresses,
//             "|command", "/file/name" and ":include:/file/name", and put
//             addresses into the one form the rest of local compares:
//             "<addr>" and "Name <addr>" lose the brackets and the name, a
//             leading backslash ("\user", sendmail's "this user's own
//             mailbox") is dropped, a quoted local part is unquoted and
//             quoted again only where needed, the domain is folded to lower
//             case. An address without a domain stays without one; the
//             caller qualifies it with myorigin.
// Guarantees: pure text processing; order is kept; empty elements vanish.
// Refusals:   Errc::parse for an unterminated quote, an empty :include:
//             path, a file name that is not absolute, and an address that
//             does not parse (an empty local part, an unbalanced bracket).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::local {

// Where a destination came from: the words allow_mail_to_commands and
// allow_mail_to_files use.
enum class Source { alias, forward, include };
std::string_view source_name(Source s);

struct Destination {
  enum class Kind { address, command, file, include };
  Kind kind = Kind::address;
  std::string text;  // address (canonical), command, absolute path
  bool operator==(const Destination&) const = default;
};

// One alias value ("a, |cmd, /f, :include:/l").
Result<std::vector<Destination>> parse_destinations(std::string_view value);

// A whole ~/.forward or :include: file: blank lines and '#' comments are
// skipped, a line that starts with white space continues the one before, and
// each logical line is an alias value. Lines that do not parse are skipped;
// each gives a "line N: why" entry in `problems`.
std::vector<Destination> parse_destination_file(std::string_view text,
                                                std::vector<std::string>& problems);

// The canonical form of one address as written in an alias or .forward file.
Result<std::string> normalize_address(std::string_view written);

// The local part and domain of a canonical address (split at the last '@';
// the domain is "" for an unqualified one).
struct AddressParts {
  std::string local;
  std::string domain;
};
AddressParts split_address(std::string_view address);

}  // namespace posthorn::local

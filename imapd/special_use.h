// imapd/special_use.h - special-use folders (RFC 6154): which folder holds
// the drafts, the sent mail, the trash, the junk, and making them for a new
// user.
//
// imap_special_use_folders lists "Name=\Attribute" pairs (default Drafts,
// Sent, Trash and Junk under those names). LIST shows each listed folder
// with its attribute; at a login whose store holds nothing but INBOX (a new
// user), the listed folders are created and subscribed, so that clients
// find them from the start instead of each making its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/mailstore/store.h"

namespace posthorn::imapd {

struct SpecialFolder {
  std::string name;       // store name, e.g. "Sent"
  std::string attribute;  // "\Sent"
};

// Parses the parameter's list items. Errors (Errc::invalid): an item that
// is not "name=\Attribute", an attribute RFC 6154 does not define, a name
// lib/mailstore refuses, a name or attribute given twice.
Result<std::vector<SpecialFolder>> parse_special_use(const std::vector<std::string>& items);

// The attribute of folder `name`, or "".
std::string_view special_use_of(const std::vector<SpecialFolder>& folders, std::string_view name);

// Creates and subscribes the folders when `store` has no folder but INBOX.
// A folder that exists already is left as it is.
Result<void> create_special_folders(mailstore::Store& store,
                                    const std::vector<SpecialFolder>& folders);

}  // namespace posthorn::imapd

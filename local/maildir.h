// local/maildir.h - delivering one message into a Maildir.
//
// As the recipient (account.h): creates the Maildir and its tmp/ new/ cur/
// when missing (mode 0700, parents too), then lib/mailstore's NewMessage:
// a unique file in tmp/, written, fsynced, linked into new/, new/ fsynced.
// Only then is the delivery reported sent; a failure at any step leaves at
// most a tmp/ file (removed) and the delivery deferred 4.3.0. A message
// larger than the limit (mailbox_size_limit, virtual_mailbox_limit: in
// Postfix they limit each Maildir file) is bounced 5.2.2 unwritten, and a
// full disk quota is bounced 5.2.2 too, as Postfix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "local/account.h"
#include "local/outcome.h"

namespace posthorn::local {

struct MaildirTarget {
  std::string dir;          // the Maildir (with or without the trailing '/')
  Rights who;
  std::uint64_t limit = 0;  // bytes per message file; 0 = none
  std::string what = "maildir";  // "maildir" or "file" (a /dir/ alias destination)
};

Outcome deliver_maildir(const MaildirTarget& t, std::string_view data);

}  // namespace posthorn::local

// local/delivery.h - delivering one recipient: Postfix's local(8) and
// virtual(8) semantics.
//
// A recipient is a *virtual mailbox* when the request came for the
// "virtual" transport or its domain is in virtual_mailbox_domains:
//   virtual_mailbox_maps gives the mailbox under virtual_mailbox_base (a
//   value ending in "/" is a Maildir, anything else an mbox);
//   virtual_uid_maps / virtual_gid_maps give its owner, and a uid below
//   virtual_minimum_uid is refused; an unknown address is bounced 5.1.1
//   "unknown user: ...".
// Any other recipient is a *local* one, decided by its local part (folded to
// lower case; the domain plays no part, as in Postfix), in this order:
//   1. alias_maps: "user+ext", then "user". The value is expanded (below),
//      with the rights of the table's owner for commands and files
//      (default_privs when root owns it) and, when owner_request_special is
//      on and "owner-NAME" is an alias too, owner-NAME@myorigin as the
//      envelope sender of the expansion. An alias that names itself
//      delivers to the user instead.
//   2. the account (getpwnam) of "user". None: luser_relay when set, else
//      bounced 5.1.1 "unknown user: ...".
//   3. the first forward_path file that exists (read as the user, owned by
//      the user or root), expanded with the user's rights; an empty one
//      means "no forwarding"; a user named in their own .forward gets the
//      mailbox.
//   4. the mailbox: mailbox_command when set, else home_mailbox under the
//      home directory, else mail_spool_directory/USER; a name ending in "/"
//      is a Maildir.
// Expansion of aliases, .forward and :include: files: commands and files are
// delivered at once when allow_mail_to_commands / allow_mail_to_files allow
// them for where they came from (else bounced 5.7.1); :include: files are
// read and expanded in place; the addresses (qualified with myorigin) are
// collected, and a single one in a local domain is delivered directly, while
// any other set goes into ONE new queue file (forward_queue.h), and the
// recipient is "sent" with the text "forwarded as NEWID". Duplicates are
// dropped: a command, file or :include: file once per recipient (up to
// duplicate_filter_limit remembered), an address once per expansion.
// Loops: a Delivered-To: field equal to the recipient at any level bounces
// 5.4.6 "mail forwarding loop for ADDR"; nesting deeper than 100 levels
// bounces 5.4.6 "alias database loop for NAME".
// Rights (when local runs as root): mailbox and file deliveries switch the
// effective identity to the recipient for the duration (account.h);
// commands run in a child that drops to the recipient for good; commands
// and files that would run as root run as default_privs instead. Not root:
// nothing switches.
// Failures are outcomes, never exceptions: a table that cannot be read, an
// account lookup that fails, a missing home directory (with home_mailbox)
// are deferred 4.3.0.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "lib/deliver/protocol.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/spool.h"
#include "local/account.h"
#include "local/outcome.h"
#include "local/settings.h"

namespace posthorn::local {

// What the recipients of one request share.
struct Job {
  const Settings& settings;
  const Tables& tables;
  const queue::Spool& spool;
  const queue::QueueFile& message;
  std::string sender;                     // the request's envelope sender
  std::vector<std::string> delivered_to;  // the message's Delivered-To: values
  std::time_t now = 0;                    // for From_ lines
  bool virtual_transport = false;         // the request is for the "virtual" transport
  std::optional<Rights> queue_owner;      // root: who writes new queue files (mail_owner)
};

struct RecipientResult {
  Outcome outcome;
  std::string relay;  // "local" or "virtual", for the reply and the log
};

RecipientResult deliver_recipient(const Job& job, const deliver::Rcpt& rcpt);

}  // namespace posthorn::local

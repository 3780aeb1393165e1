// local/mbox.h - appending one message to an mbox file (a user's mailbox, a
// virtual mbox, or a /file/name destination of an alias or .forward).
//
// Steps, as Postfix's local(8) takes them:
//   1. (spool mailboxes, as root) create the mailbox owned by the user when
//      it does not exist yet, since the user may not create files in the
//      spool directory
//   2. open for appending (O_NOFOLLOW: never through a symlink), creating it
//      0600; check it: a regular file with one link (or a character device
//      such as /dev/null, written without locks), owned by the user when
//      local runs as root
//   3. lock: the dot lock PATH.lock (O_EXCL; one older than stale_lock_time
//      is removed), then the kernel locks on the open file (fcntl and/or
//      flock), each per the lock list (mailbox_delivery_lock,
//      virtual_mailbox_lock). Busy -> release what was taken, wait
//      deliver_lock_delay, retry up to deliver_lock_attempts; then the
//      delivery is deferred 4.2.0 "mailbox is locked". A dot lock that cannot
//      be created for lack of permission is done without (Postfix: "dot lock
//      may fail"), as readers that need one cannot have made it either.
//   4. the size limit (0 = none): existing size + this message over it ->
//      bounced 5.2.2 "mailbox full", nothing written
//   5. append with write(2) (O_APPEND), fsync; on any error ftruncate back to
//      the size before, so the mbox is never left with half a message, and
//      defer 4.3.0 (disk quota or file size exceeded: bounced 5.2.2, as
//      Postfix)
//   6. unlock, remove the dot lock.
// Every step but the privileged ones of 1 and 2 runs with the recipient's
// effective identity (account.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "local/account.h"
#include "local/outcome.h"

namespace posthorn::local {

struct LockPolicy {
  bool fcntl = true;
  bool flock = false;
  bool dotlock = true;
  int attempts = 20;                 // deliver_lock_attempts
  std::chrono::milliseconds delay{1000};  // deliver_lock_delay
  std::chrono::seconds stale{500};   // stale_lock_time
};

// Parses a lock list ("fcntl, dotlock"); unknown words -> Errc::invalid.
Result<LockPolicy> parse_lock_list(const std::vector<std::string>& words, LockPolicy base);

struct MboxTarget {
  std::string path;
  Rights who;                // the recipient (or the rights of an alias's file)
  std::uint64_t limit = 0;   // bytes; 0 = none
  LockPolicy locks;
  bool spool = false;        // a mail_spool_directory mailbox: steps 1 and the dot lock as root
  bool make_parents = false; // create missing parent directories (0700, as `who`)
  std::string what = "mailbox";  // "mailbox" or "file", for the texts
};

Outcome append_mbox(const MboxTarget& t, std::string_view data);

}  // namespace posthorn::local

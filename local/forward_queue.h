// local/forward_queue.h - mail that an alias, a .forward or a :include: file
// sends on to other addresses: one new queue file.
//
// Postfix re-submits forwarded mail as a new message "for the sake of
// reliability, so that each recipient has a separate on-file delivery
// status record"; so does local. The new file goes into incoming/ through
// lib/queue's writer (complete and fsynced before the call returns), with
//   - the original content, a Delivered-To: line in front (when
//     prepend_delivered_header has "forward"), keeping its line ends;
//   - the envelope sender of the expansion (the original sender, or
//     owner-NAME@myorigin for a list with an owner- alias);
//   - one recipient per expanded address, each with the original recipient
//     as `original` (logged as orig_to=), NOTIFY without SUCCESS and the
//     ORCPT as given (Postfix's rule for aliases; a list with an owner gets
//     neither, nor ENVID and RET);
//   - the client information, body type and SMTPUTF8 of the original.
// When local runs as root the file is written with mail_owner's effective
// identity, so that qmgr can read and update it. qmgr is then woken
// (lib/queue/trigger.h); if it cannot be reached the file waits for its next
// scan, safe in incoming/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/queue_id.h"
#include "lib/queue/spool.h"
#include "local/account.h"

namespace posthorn::local {

struct Forward {
  std::string sender;
  std::vector<std::string> recipients;  // canonical, qualified addresses
  std::string original;                 // the original recipient
  std::optional<std::string> delivered_to;
  bool owner = false;                   // the sender is an owner- alias
  std::uint8_t notify = 0;              // the original recipient's NOTIFY bits
  std::string orcpt;
};

// The envelope of the new file (exposed for tests).
queue::Envelope forward_envelope(const queue::QueueFile& original, const Forward& f);

// Writes the file; `owner`: the identity to write it with (mail_owner), none
// in instance mode.
Result<queue::QueueId> write_forward(const queue::Spool& spool, const queue::QueueFile& original,
                                     const Forward& f, const std::optional<Rights>& owner);

}  // namespace posthorn::local

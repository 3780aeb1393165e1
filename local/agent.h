// local/agent.h - one deliver request in, one reply out
// (lib/deliver/protocol.h).
//
// The agent reads the queue file named by the request, read-only: it never
// writes, moves or quarantines queue files (qmgr owns them; a corrupt file
// is qmgr's to move). A request it cannot act on - a malformed queue ID, a
// queue directory other than incoming, active, deferred or hold, a queue
// file that cannot be read or parsed - defers every recipient 4.3.0 with a
// warning in the log. Otherwise each recipient is delivered in turn
// (delivery.h), soft_bounce applied, one delivery line logged and one
// RcptResult answered, in the request's order.
#pragma once

#include <optional>

#include "lib/deliver/protocol.h"
#include "lib/queue/spool.h"
#include "local/account.h"
#include "local/settings.h"

namespace posthorn::local {

class Agent {
 public:
  // `queue_owner`: the identity new queue files are written with (mail_owner
  // when running as root; none otherwise).
  Agent(Settings settings, Tables tables, queue::Spool spool, std::optional<Rights> queue_owner);

  deliver::Reply handle(const deliver::Request& req);

 private:
  deliver::Reply defer_all(const deliver::Request& req, std::string_view text, std::int64_t start);

  Settings settings_;
  Tables tables_;
  queue::Spool spool_;
  std::optional<Rights> queue_owner_;
};

}  // namespace posthorn::local

// lib/queue/pickup_trigger.h - waking pickup after a file lands in maildrop/.
//
// pickup listens on its master.cf socket public/pickup (service "pickup unix
// n": public, so that postdrop, which runs with the maildrop group only,
// reaches it through public/ 0710 owner:maildrop-group) and speaks lib/ipc
// protocol "pickup" version 1:
//
//   wakeup  (notice, no reply)  a new file is in maildrop/: look now
//
// The notice carries nothing: pickup trusts no claim about which file is
// new, it scans maildrop/. A writer that cannot reach pickup loses nothing:
// pickup also scans on master's wake-up (master.cf wakeup column, 60 s) and
// when it starts.
#pragma once

#include <chrono>
#include <string>

#include "lib/base/result.h"
#include "lib/ipc/frame.h"
#include "lib/queue/spool.h"
#include "lib/queue/trigger.h"

namespace posthorn::queue {

inline const ipc::Protocol kPickupProtocol{"pickup", 1};

// The notice is queue::Wakeup (trigger.h), sent under kPickupProtocol.

// The socket pickup listens on: queue_directory/public/pickup.
std::string pickup_socket(const Spool& spool);

// Sends `wakeup` to pickup; never blocks longer than `timeout`. Errors
// (pickup not running, no socket, no permission) are for a debug line only:
// the file waits in maildrop/ for the next scan either way.
Result<void> wake_pickup(const Spool& spool,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

}  // namespace posthorn::queue

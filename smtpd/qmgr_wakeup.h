// smtpd/qmgr_wakeup.h - telling qmgr that a message arrived in incoming/
// (lib/queue/trigger.h: the `wakeup` notice on public/qmgr).
//
// Guarantees: never blocks the event loop (the socket is connected
// non-blocking, the notice is queued on the loop); at most one wakeup is
// pending at a time: the messages accepted before it goes out share it. The
// connection to qmgr is kept open and made again on demand when it ended.
// Failure (qmgr not running, its socket missing) loses nothing: qmgr scans
// incoming/ when it starts and on master's periodic wake-ups, so a failure
// is only a debug line (logged with -v).
#pragma once

#include <memory>
#include <string>

#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/client.h"

namespace posthorn::smtpd {

class QmgrWakeup {
 public:
  // `socket` is qmgr's (queue::qmgr_socket()); `verbose` logs failures.
  QmgrWakeup(event::EventBase& base, std::string socket, bool verbose);
  ~QmgrWakeup();
  QmgrWakeup(const QmgrWakeup&) = delete;
  QmgrWakeup& operator=(const QmgrWakeup&) = delete;

  // Asks qmgr to look at incoming/ soon (from the loop, after the callers
  // of this round of events are done).
  void wake();
  std::size_t sent() const { return sent_; }

 private:
  void send();

  event::EventBase& base_;
  std::string socket_;
  bool verbose_;
  event::Timer timer_;
  std::unique_ptr<ipc::Client> client_;
  std::size_t sent_ = 0;
};

}  // namespace posthorn::smtpd

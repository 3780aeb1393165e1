// lib/queue/trigger.h - waking qmgr, and asking it to flush.
//
// qmgr listens on its master.cf socket (public/qmgr: the qmgr service is
// "unix n", not private, so that postdrop/sendmail and the queue tools of the
// maildrop group reach it) and speaks lib/ipc protocol "qmgr" version 1:
//
//   wakeup  (notice, no reply)  new files are in incoming/: look now
//   flush   request {domain, queue_id} -> flushed {count}
//           move deferred mail (all, or that of recipients in `domain`, or
//           the one message `queue_id`) to be tried at once; count = messages
//
// A writer that cannot reach qmgr loses nothing: qmgr scans incoming/ when it
// starts and on each of master's wake-ups (master.cf's wakeup column).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "lib/base/result.h"
#include "lib/ipc/frame.h"
#include "lib/queue/spool.h"

namespace posthorn::queue {

inline const ipc::Protocol kQmgrProtocol{"qmgr", 1};

struct Wakeup {
  static constexpr std::string_view kName = "wakeup";
  void fields(auto&) {}
};

struct Flushed {
  static constexpr std::string_view kName = "flushed";
  std::uint64_t count = 0;
  void fields(auto& f) { f("count", count); }
};

struct Flush {
  static constexpr std::string_view kName = "flush";
  using Reply = Flushed;
  std::string domain;    // "" = every destination
  std::string queue_id;  // "" = every message
  void fields(auto& f) {
    f("domain", domain);
    f("queue_id", queue_id);
  }
};

// The socket qmgr listens on: queue_directory/public/qmgr.
std::string qmgr_socket(const Spool& spool);

// Sends `wakeup` to qmgr. Never blocks longer than `timeout`. Errors (qmgr
// not running, socket missing) are for the caller's debug log only: the mail
// is safe in incoming/ either way.
Result<void> wake_qmgr(const Spool& spool,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

// Sends `flush` and waits for the answer. Errors: those of
// ipc::BlockingClient (Errc::not_found / Errc::io when qmgr is not running).
Result<std::uint64_t> flush_qmgr(const Spool& spool, const Flush& what,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

}  // namespace posthorn::queue

// qmgr/trigger_server.h - qmgr's own socket (public/qmgr): lib/queue/trigger.h's
// protocol "qmgr" version 1, served by an ipc::Server on the connections the
// service skeleton accepts.
//
//   wakeup (notice)          -> on_wakeup(): scan incoming/
//   flush {domain, queue_id} -> on_flush() -> flushed {count}
// Anything else gets lib/ipc's error answers; a framing error closes that
// connection only, and one that stays silent for qmgr_ipc_timeout is closed. Each connection holds the service Job it came with until
// it closes, so a retiring qmgr answers what it was asked before it exits.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "lib/event/event_base.h"
#include "lib/ipc/server.h"
#include "lib/service/service.h"

namespace posthorn::qmgr {

class TriggerServer {
 public:
  using WakeupFn = std::function<void()>;
  using FlushFn = std::function<std::uint64_t(const std::string& domain, const std::string& queue_id)>;
  TriggerServer(event::EventBase& loop, std::chrono::seconds idle_timeout, WakeupFn wakeup, FlushFn flush);
  void adopt(Fd fd, service::Job job);
  std::size_t connections() const { return server_.connections(); }

 private:
  ipc::Server server_;
};

}  // namespace posthorn::qmgr

// qmgr/trigger_server.h - qmgr's own socket (public/qmgr): lib/queue/trigger.h's
// protocol "qmgr" version 1, one lib/ipc channel per accepted connection.
//
//   wakeup (notice)          -> on_wakeup(): scan incoming/
//   flush {domain, queue_id} -> on_flush() -> flushed {count}
// Anything else gets an error answer (unknown request) or, for a framing
// error, the connection is closed; neither affects the others. Each
// connection holds the service Job it came with until it closes, so a
// retiring qmgr answers what it was asked before it exits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "lib/event/event_base.h"
#include "lib/ipc/channel.h"
#include "lib/service/service.h"

namespace posthorn::qmgr {

class TriggerServer {
 public:
  using WakeupFn = std::function<void()>;
  using FlushFn = std::function<std::uint64_t(const std::string& domain, const std::string& queue_id)>;
  TriggerServer(event::EventBase& loop, WakeupFn wakeup, FlushFn flush)
      : loop_(loop), wakeup_(std::move(wakeup)), flush_(std::move(flush)) {}
  void adopt(Fd fd, service::Job job);
  std::size_t connections() const { return conns_.size(); }

 private:
  struct Conn {
    std::unique_ptr<ipc::Channel> channel;
    service::Job job;
  };
  void on_frame(Conn* c, const ipc::Frame& f);

  event::EventBase& loop_;
  WakeupFn wakeup_;
  FlushFn flush_;
  std::map<Conn*, std::unique_ptr<Conn>> conns_;
};

}  // namespace posthorn::qmgr

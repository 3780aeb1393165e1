// qmgr/trigger_server.cc - see trigger_server.h.
#include "qmgr/trigger_server.h"

#include <memory>

#include "lib/queue/trigger.h"

namespace posthorn::qmgr {
namespace {

ipc::ServerOptions options(std::chrono::seconds idle_timeout) {
  ipc::ServerOptions o{queue::kQmgrProtocol};
  o.max_frame = 64 * 1024;  // a flush request is tiny
  o.idle_timeout = idle_timeout;
  return o;
}

}  // namespace

TriggerServer::TriggerServer(event::EventBase& loop, std::chrono::seconds idle_timeout, WakeupFn wakeup,
                             FlushFn flush)
    : server_(loop, options(idle_timeout)) {
  server_.handle<queue::Wakeup>([wakeup = std::move(wakeup)](queue::Wakeup, ipc::Replier r) {
    if (r.wants_reply()) r.fail(Errc::protocol, "wakeup is a notice");
    wakeup();
  });
  server_.handle<queue::Flush>([flush = std::move(flush)](queue::Flush req, ipc::Replier r) {
    queue::Flushed answer;
    answer.count = flush(req.domain, req.queue_id);
    r.reply(answer);
  });
}

void TriggerServer::adopt(Fd fd, service::Job job) {
  auto held = std::make_shared<service::Job>(std::move(job));
  server_.adopt(std::move(fd), [held] { held->end(); });
}

}  // namespace posthorn::qmgr

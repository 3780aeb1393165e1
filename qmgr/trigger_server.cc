// qmgr/trigger_server.cc - see trigger_server.h.
#include "qmgr/trigger_server.h"

#include "lib/ipc/codec.h"
#include "lib/log/log.h"
#include "lib/queue/trigger.h"

namespace posthorn::qmgr {

void TriggerServer::adopt(Fd fd, service::Job job) {
  auto c = std::make_unique<Conn>();
  Conn* key = c.get();
  ipc::ChannelOptions o{queue::kQmgrProtocol};
  o.max_frame = 64 * 1024;  // a flush request is tiny
  o.idle_timeout = std::chrono::seconds(60);
  c->channel = std::make_unique<ipc::Channel>(loop_, std::move(fd), o);
  c->job = std::move(job);
  c->channel->on_frame([this, key](ipc::Frame f) { on_frame(key, f); });
  c->channel->on_close([this, key](const Error& e) {
    if (e.code != Errc::closed && e.code != Errc::timeout) log::warn("qmgr socket: connection closed: ", e.detail);
    conns_.erase(key);  // ends the Job
  });
  conns_.emplace(key, std::move(c));
}

void TriggerServer::on_frame(Conn* c, const ipc::Frame& f) {
  if (f.kind != ipc::Kind::request)
    return c->channel->close({Errc::protocol, "client sent a frame that is not a request"});
  if (f.name == queue::Wakeup::kName) {
    if (f.id != 0) c->channel->send(ipc::error_frame(f.id, f.name, Errc::protocol, "wakeup is a notice"));
    return wakeup_();
  }
  if (f.name == queue::Flush::kName) {
    auto req = ipc::decode<queue::Flush>(f);
    if (!req) {
      if (f.id != 0) c->channel->send(ipc::error_frame(f.id, f.name, Errc::protocol, req.error().detail));
      return;
    }
    queue::Flushed answer;
    answer.count = flush_(req->domain, req->queue_id);
    if (f.id != 0) c->channel->send(ipc::encode(answer, ipc::Kind::reply, f.id));
    return;
  }
  if (f.id != 0) c->channel->send(ipc::error_frame(f.id, f.name, Errc::unsupported, "unknown request"));
}

}  // namespace posthorn::qmgr

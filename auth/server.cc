// auth/server.cc - see server.h.
#include "auth/server.h"

#include "lib/ipc/codec.h"
#include "lib/log/log.h"

namespace posthorn::auth {

struct Server::Conn {
  std::unique_ptr<ipc::Channel> channel;
  service::Job job;
  // Failure answers waiting for their delay, by a key of our own (ids are
  // the client's and could repeat).
  std::map<std::uint64_t, std::unique_ptr<event::Timer>> delayed;
  std::uint64_t next_key = 0;
};

Server::Server(event::EventBase& base, Checker checker, ServerSettings settings,
               std::function<void(const Error&)> table_trouble)
    : base_(base), checker_(std::move(checker)), settings_(settings),
      table_trouble_(std::move(table_trouble)) {}

Server::~Server() = default;

void Server::adopt(Fd fd, service::Job job) {
  auto c = std::make_unique<Conn>();
  c->job = std::move(job);
  c->channel = std::make_unique<ipc::Channel>(
      base_, std::move(fd), ipc::ChannelOptions{kProtocol, ipc::kDefaultMaxFrame, settings_.idle_timeout});
  Conn* raw = c.get();
  raw->channel->on_frame([this, raw](ipc::Frame f) { on_frame(raw, std::move(f)); });
  raw->channel->on_close([this, raw](const Error& e) {
    if (e.code != Errc::closed && e.code != Errc::timeout)
      log::warn("auth client connection closed: ", e.detail);
    conns_.erase(raw);  // ends the Job; the channel touches nothing after this
  });
  conns_.emplace(raw, std::move(c));
}

void Server::on_frame(Conn* c, ipc::Frame f) {
  if (f.kind != ipc::Kind::request)
    return c->channel->close({Errc::protocol, "client sent a frame that is not a request"});
  if (f.id == 0) return;
  if (f.name != Check::kName)
    return c->channel->send(ipc::error_frame(f.id, f.name, Errc::unsupported,
                                             cat("unknown request ", printable(f.name))));
  auto req = ipc::decode<Check>(f);
  if (!req) return c->channel->send(ipc::error_frame(f.id, f.name, Errc::protocol, req.error().detail));
  if (auto r = checker_.reopen_changed(); !r) {
    log::warn(r.error().detail, "; the tables loaded before stay in use");
    if (!table_trouble_reported_ && table_trouble_) table_trouble_(r.error());
    table_trouble_reported_ = true;
  }
  Outcome o = checker_.check(*req, Clock::now());
  if (!o.table_warning.empty()) log::warn(o.table_warning);
  // Logged when decided (log watchers need not wait for the delay).
  std::string who = cat("login=", printable(req->login), ", client=",
                        printable(req->client_addr.empty() ? "unknown" : req->client_addr),
                        ", service=", printable(req->service));
  if (o.reply.ok)
    log::info(who, ": ok");
  else
    log::warn(who, ": ", o.reply.temporary ? "temporary failure: " : "failed: ", o.reason);
  if (!o.failed || settings_.failure_delay.count() == 0)
    return c->channel->send(ipc::encode(o.reply, ipc::Kind::reply, f.id));
  // Only the answer waits: the password is not kept.
  std::uint64_t key = c->next_key++;
  auto timer = std::make_unique<event::Timer>(base_, [c, key, id = f.id, reply = o.reply] {
    auto node = c->delayed.extract(key);  // the timer lives until this callback returns
    c->channel->send(ipc::encode(reply, ipc::Kind::reply, id));
  });
  timer->start(settings_.failure_delay);
  c->delayed.emplace(key, std::move(timer));
}

}  // namespace posthorn::auth

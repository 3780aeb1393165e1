// lib/ipc/server.cc - see server.h.
#include "lib/ipc/server.h"

#include <sys/socket.h>

#include "lib/log/log.h"

namespace posthorn::ipc {

namespace detail {
struct ServerConn {
  Channel channel;
  PeerCred peer;
  std::function<void()> on_closed;
  ServerConn(event::EventBase& base, Fd fd, ChannelOptions opts)
      : channel(base, std::move(fd), std::move(opts)) {}
};
}  // namespace detail

namespace {
PeerCred peer_of(int fd) {
  PeerCred p;
  ucred uc{};
  socklen_t len = sizeof uc;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) p = {uc.pid, uc.uid, uc.gid};
  return p;
}
}  // namespace

Replier::Replier(std::weak_ptr<detail::ServerConn> conn, std::uint64_t id, std::string name,
                 PeerCred peer)
    : conn_(std::move(conn)), id_(id), name_(std::move(name)), peer_(peer) {}

Replier& Replier::operator=(Replier&& o) noexcept {
  if (this != &o) {
    if (wants_reply() && !conn_.expired()) fail(Errc::unsupported, "request was not answered");
    conn_ = std::move(o.conn_);  // leaves o's weak_ptr empty: o sends nothing
    id_ = o.id_;
    name_ = std::move(o.name_);
    peer_ = o.peer_;
    done_ = o.done_;
  }
  return *this;
}

Replier::~Replier() {
  if (wants_reply() && !conn_.expired()) fail(Errc::unsupported, "request was not answered");
}

void Replier::fail(Errc code, std::string_view text) { send(error_frame(id_, name_, code, text)); }

void Replier::send(const Frame& f) {
  if (done_ || id_ == 0) return;
  done_ = true;
  if (auto c = conn_.lock()) c->channel.send(f);
}

Server::Server(event::EventBase& base, Fd listening, ServerOptions opts)
    : base_(base), opts_(std::move(opts)) {
  listener_.emplace(base, std::move(listening), [this](event::Accepted a) { adopt(std::move(a.fd)); });
}

Server::Server(event::EventBase& base, ServerOptions opts) : base_(base), opts_(std::move(opts)) {}

Server::~Server() = default;

void Server::adopt(Fd fd, std::function<void()> on_closed) {
  PeerCred peer = peer_of(fd.get());
  auto c = std::make_shared<detail::ServerConn>(
      base_, std::move(fd), ChannelOptions{opts_.protocol, opts_.max_frame, opts_.idle_timeout});
  c->peer = peer;
  c->on_closed = std::move(on_closed);
  detail::ServerConn* key = c.get();
  std::weak_ptr<detail::ServerConn> weak = c;
  c->channel.on_frame([this, weak](Frame f) {
    if (auto c = weak.lock()) dispatch(c, std::move(f));
  });
  c->channel.on_close([this, key](const Error& e) {
    if (e.code != Errc::closed)
      log::warn(opts_.protocol.name, " server: connection from pid ", key->peer.pid, " closed: ",
                e.detail);
    std::function<void()> done = std::move(key->on_closed);
    conns_.erase(key);  // destroys the channel; it touches nothing after this callback
    if (done) done();   // last: it may destroy the Server
  });
  conns_.emplace(key, std::move(c));
}

void Server::dispatch(const std::shared_ptr<detail::ServerConn>& c, Frame f) {
  Replier r(c, f.id, f.name, c->peer);
  if (f.kind != Kind::request)
    return c->channel.close({Errc::protocol, "client sent a frame that is not a request"});
  auto h = handlers_.find(f.name);
  if (h == handlers_.end()) return r.fail(Errc::unsupported, cat("unknown request ", f.name));
  h->second(f, std::move(r));
}

}  // namespace posthorn::ipc

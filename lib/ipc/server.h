// lib/ipc/server.h - an IPC service: accepts on a listening UNIX socket,
// reads requests and dispatches them by message name.
//
// Each connection gets its own Channel (frame limit, idle timeout). A
// framing error closes that connection only; a well-framed request whose
// attributes do not decode, or whose name has no handler, gets an error
// reply (PROTOCOL.md "Errors") and the connection stays open.
// Handlers may answer at once or later (after a queue write, a DNS answer):
// they keep the Replier until then. A Replier dropped without an answer
// sends an error reply, so a client never waits for a forgotten request.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>

#include "lib/event/event_base.h"
#include "lib/event/listener.h"
#include "lib/ipc/channel.h"
#include "lib/ipc/codec.h"

namespace posthorn::ipc {

struct ServerOptions {
  Protocol protocol;
  std::size_t max_frame = kDefaultMaxFrame;
  std::chrono::milliseconds idle_timeout{300'000};  // a client silent this long is dropped
};

struct PeerCred {  // SO_PEERCRED of the client; -1 where unknown
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

namespace detail { struct ServerConn; }

class Replier {
 public:
  Replier(std::weak_ptr<detail::ServerConn> conn, std::uint64_t id, std::string name, PeerCred peer);
  Replier(Replier&&) noexcept = default;
  Replier& operator=(Replier&&) noexcept;
  Replier(const Replier&) = delete;
  Replier& operator=(const Replier&) = delete;
  ~Replier();

  // Sends the reply (once; later calls are ignored). Dropped silently when
  // the client has gone or sent the request as a notice (id 0).
  template <Message R>
  void reply(const R& r) {
    send(encode(r, Kind::reply, id_));
  }
  // Sends an error reply with `code` and a short `text` for the peer's log.
  void fail(Errc code, std::string_view text);
  bool wants_reply() const { return id_ != 0 && !done_; }
  const PeerCred& peer() const { return peer_; }

 private:
  void send(const Frame& f);
  std::weak_ptr<detail::ServerConn> conn_;
  std::uint64_t id_;
  std::string name_;
  PeerCred peer_;
  bool done_ = false;
};

class Server {
 public:
  // Takes ownership of a listening UNIX socket (see listen_unix()).
  Server(event::EventBase& base, Fd listening, ServerOptions opts);
  // A server without a socket of its own: connections come through adopt()
  // (daemons whose lib/service skeleton accepts for them).
  Server(event::EventBase& base, ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers the handler for requests named Req::kName:
  // fn(Req request, Replier replier). A second registration replaces the first.
  template <Message Req, class F>
  void handle(F fn) {
    handlers_[std::string(Req::kName)] = [fn = std::move(fn)](const Frame& f, Replier r) mutable {
      auto req = decode<Req>(f);
      if (!req) return r.fail(Errc::protocol, req.error().detail);
      fn(std::move(*req), std::move(r));
    };
  }
  // Takes a connection accepted elsewhere (or one end of a socketpair).
  // `on_closed`, when given, runs once when that connection has ended and
  // the server has forgotten it (a daemon ends the connection's
  // service::Job there); it may destroy the Server.
  void adopt(Fd fd, std::function<void()> on_closed = {});
  std::size_t connections() const { return conns_.size(); }
  // Stops accepting; open connections are served until they close.
  void stop_accepting() {
    if (listener_) listener_->disable();
  }

 private:
  friend struct detail::ServerConn;
  void dispatch(const std::shared_ptr<detail::ServerConn>& c, Frame f);

  event::EventBase& base_;
  ServerOptions opts_;
  std::optional<event::Listener> listener_;
  std::map<std::string, std::function<void(const Frame&, Replier)>, std::less<>> handlers_;
  std::map<detail::ServerConn*, std::shared_ptr<detail::ServerConn>> conns_;
};

}  // namespace posthorn::ipc

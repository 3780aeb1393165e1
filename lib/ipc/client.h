// lib/ipc/client.h - the event-driven side that sends requests.
//
// Every request carries a fresh id and its own timer; the reply with that
// id runs the callback, exactly once: with the decoded reply, with the
// peer's error (error frame), Errc::timeout when the timer ran out, or
// Errc::closed when the connection ended first. A reply that comes after its
// timeout is dropped. Callbacks may destroy the Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/channel.h"
#include "lib/ipc/codec.h"

namespace posthorn::ipc {

struct ClientOptions {
  Protocol protocol;
  std::size_t max_frame = kDefaultMaxFrame;
  std::chrono::milliseconds idle_timeout{0};  // 0: a client may idle between requests
};

class Client {
 public:
  // Takes a connected socket (connect_unix(), or one end of a socketpair).
  Client(event::EventBase& base, Fd fd, ClientOptions opts);
  // Connects to `path`; errors as connect_unix().
  static Result<std::unique_ptr<Client>> connect(event::EventBase& base, const std::string& path,
                                                 ClientOptions opts);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `req` and runs `cb` with the Req::Reply (see above). Never runs
  // `cb` before returning.
  template <Message Req>
  void request(const Req& req, std::chrono::milliseconds timeout,
               std::function<void(Result<typename Req::Reply>)> cb) {
    using Reply = typename Req::Reply;
    send_request(encode(req), timeout, [cb = std::move(cb)](Result<Frame> f) {
      if (!f) return cb(std::move(f).error());
      if (f->kind == Kind::error) return cb(error_from_frame(*f));
      cb(decode<Reply>(*f));
    });
  }
  // Sends `m` as a notice (id 0): the server sends no reply.
  template <Message M>
  void notify(const M& m) {
    channel_.send(encode(m));
  }
  // Runs once when the connection ends (after the pending callbacks).
  void on_close(std::function<void(const Error&)> fn) { close_fn_ = std::move(fn); }
  bool open() const { return channel_.open(); }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::function<void(Result<Frame>)> cb;
    std::unique_ptr<event::Timer> timer;
  };
  void send_request(Frame f, std::chrono::milliseconds timeout,
                    std::function<void(Result<Frame>)> cb);
  void complete(std::uint64_t id, Result<Frame> r);
  void on_frame(Frame f);
  void on_closed(const Error& e);

  event::EventBase& base_;
  Channel channel_;
  std::map<std::uint64_t, Pending> pending_;
  std::uint64_t next_id_ = 1;
  std::function<void(const Error&)> close_fn_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::optional<Error> closed_;
};

}  // namespace posthorn::ipc

// lib/ipc/client.cc - see client.h.
#include "lib/ipc/client.h"

#include "lib/ipc/unix_socket.h"
#include "lib/log/log.h"

namespace posthorn::ipc {

Client::Client(event::EventBase& base, Fd fd, ClientOptions opts)
    : base_(base),
      channel_(base, std::move(fd), ChannelOptions{opts.protocol, opts.max_frame, opts.idle_timeout}) {
  channel_.on_frame([this](Frame f) { on_frame(std::move(f)); });
  channel_.on_close([this](const Error& e) { on_closed(e); });
}

Result<std::unique_ptr<Client>> Client::connect(event::EventBase& base, const std::string& path,
                                                ClientOptions opts) {
  auto fd = connect_unix(path);
  if (!fd) return std::move(fd).error();
  return std::make_unique<Client>(base, std::move(*fd), std::move(opts));
}

Client::~Client() = default;

void Client::send_request(Frame f, std::chrono::milliseconds timeout,
                          std::function<void(Result<Frame>)> cb) {
  std::uint64_t id = next_id_++;
  f.id = id;
  auto timer = std::make_unique<event::Timer>(base_, [this, id] {
    complete(id, closed_ ? *closed_ : Error{Errc::timeout, "no reply in time"});
  });
  // On a closed connection the zero timer reports the close from the loop,
  // keeping the promise that cb never runs inside request().
  timer->start(closed_ ? std::chrono::milliseconds(0) : timeout);
  pending_.emplace(id, Pending{std::move(cb), std::move(timer)});
  channel_.send(f);
}

void Client::complete(std::uint64_t id, Result<Frame> r) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  // Moved out first: the callback may destroy this Client, and erasing the
  // entry destroys the timer whose callback may be running right now.
  auto cb = std::move(it->second.cb);
  auto timer = std::move(it->second.timer);
  pending_.erase(it);
  event::guarded("ipc reply", [&] { cb(std::move(r)); });
}

void Client::on_frame(Frame f) {
  if (f.kind != Kind::reply && f.kind != Kind::error)
    return channel_.close({Errc::protocol, "server sent a frame that is not a reply"});
  if (!pending_.count(f.id)) {
    log::info(channel_.options().protocol.name, " client: dropped a late reply (id ", f.id, ")");
    return;
  }
  complete(f.id, std::move(f));
}

void Client::on_closed(const Error& e) {
  closed_ = e;
  if (e.code != Errc::closed)
    log::warn(channel_.options().protocol.name, " client: connection closed: ", e.detail);
  std::weak_ptr<int> alive = alive_;
  while (!alive.expired() && !pending_.empty()) complete(pending_.begin()->first, e);
  if (alive.expired() || !close_fn_) return;
  auto fn = close_fn_;
  event::guarded("ipc client close", [&] { fn(e); });
}

}  // namespace posthorn::ipc

// lib/ipc/channel.cc - see channel.h.
#include "lib/ipc/channel.h"

#include <sys/socket.h>

#include "lib/base/strings.h"

namespace posthorn::ipc {

Channel::Channel(event::EventBase& base, Fd fd, ChannelOptions opts) : opts_(std::move(opts)) {
  event::ConnectionOptions co;
  // Input never holds more than one whole frame beyond what we consumed.
  co.max_input = opts_.max_frame + kHeaderSize;
  co.max_line = 1;  // lines are not used here
  co.idle_timeout = opts_.idle_timeout;
  // The hello goes straight to the socket (an empty socket buffer always
  // takes these few bytes): if we refuse the peer's hello and close at once,
  // the peer has still been told what we speak and can log it.
  std::string hello = serialize(hello_frame(opts_.protocol));
  ssize_t n = ::send(fd.get(), hello.data(), hello.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  conn_ = event::Connection::plain(base, std::move(fd), co);
  conn_->on_read([this] { on_input(); });
  conn_->on_close([this](const Error& e) { close(e); });
  conn_->write(std::string_view(hello).substr(n > 0 ? static_cast<std::size_t>(n) : 0));
}

void Channel::send(const Frame& f) {
  if (conn_) conn_->write(serialize(f));
}

void Channel::close(Error why) {
  if (!conn_) return;
  conn_.reset();  // closes the socket: the peer sees the end at once
  event::SharedFn<void(const Error&)> fn = close_fn_;
  if (fn && *fn) event::guarded("ipc close", [&] { (*fn)(why); });
}

// The next whole frame in the input, checking the header before waiting for
// (or buffering) the body.
Result<std::optional<Frame>> Channel::next_frame() {
  if (conn_->input_size() < kHeaderSize) return std::optional<Frame>();
  auto len = check_header(conn_->peek(kHeaderSize), opts_.max_frame);
  if (!len) return std::move(len).error();
  if (conn_->input_size() < kHeaderSize + *len) return std::optional<Frame>();
  auto f = parse_body(conn_->peek(kHeaderSize + *len).substr(kHeaderSize));
  conn_->drain(kHeaderSize + *len);
  if (!f) return std::move(f).error();
  return std::optional<Frame>(std::move(*f));
}

void Channel::on_input() {
  std::weak_ptr<int> alive = alive_;
  while (conn_) {
    auto f = next_frame();
    if (!f) return close(std::move(f).error());
    if (!*f) return;
    if (!hello_seen_) {
      auto ok = check_hello(**f, opts_.protocol);
      if (!ok) return close(std::move(ok).error());
      hello_seen_ = true;
      continue;
    }
    event::SharedFn<void(Frame)> fn = frame_fn_;
    if (fn && *fn) event::guarded("ipc frame", [&] { (*fn)(std::move(**f)); });
    if (alive.expired()) return;  // the callback destroyed us
  }
}

}  // namespace posthorn::ipc

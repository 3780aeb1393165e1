// lib/ipc/channel.h - one IPC connection on the event loop: hello, then
// frames both ways. Server and Client are built on it.
//
// The channel sends its hello at once and checks the peer's before passing
// on any frame. Any framing error (oversized, malformed, bad hello) closes
// this connection and only this one; the close callback says why, and the
// reason is logged with the protocol name.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/event/connection.h"
#include "lib/event/event_base.h"
#include "lib/ipc/frame.h"

namespace posthorn::ipc {

struct ChannelOptions {
  Protocol protocol;
  std::size_t max_frame = kDefaultMaxFrame;        // body bytes we accept
  std::chrono::milliseconds idle_timeout{0};       // 0: none
};

class Channel {
 public:
  using FrameFn = std::function<void(Frame)>;
  using CloseFn = std::function<void(const Error&)>;

  // Takes a connected UNIX stream socket and sends our hello.
  Channel(event::EventBase& base, Fd fd, ChannelOptions opts);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Each frame after the peer's valid hello. May destroy the Channel.
  void on_frame(FrameFn fn) { frame_fn_ = event::share_fn<void(Frame)>(std::move(fn)); }
  // Once, when the connection ends for any reason. May destroy the Channel.
  void on_close(CloseFn fn) { close_fn_ = event::share_fn<void(const Error&)>(std::move(fn)); }

  // Queues a frame; ignored once closed.
  void send(const Frame& f);
  // Closes now; the close callback runs with `why`.
  void close(Error why);
  bool open() const { return conn_ != nullptr; }
  int fd() const { return conn_ ? conn_->fd() : -1; }
  const ChannelOptions& options() const { return opts_; }

 private:
  void on_input();
  Result<std::optional<Frame>> next_frame();

  ChannelOptions opts_;
  std::unique_ptr<event::Connection> conn_;
  event::SharedFn<void(Frame)> frame_fn_;
  event::SharedFn<void(const Error&)> close_fn_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  bool hello_seen_ = false;
};

}  // namespace posthorn::ipc

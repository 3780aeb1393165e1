// lib/ipc/blocking_client.h - request/reply without an event loop, for
// tools (posthorn, sendmail, postdrop) and processes that do one job at a
// time. Each wait has a deadline; nothing blocks past it.
#pragma once

#include <chrono>
#include <string>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/ipc/codec.h"
#include "lib/ipc/frame.h"

namespace posthorn::ipc {

class BlockingClient {
 public:
  // Connects to `path`, sends our hello and waits up to `timeout` for the
  // server's. Errors: those of connect_unix(), Errc::timeout, Errc::protocol
  // (bad hello: the detail names both protocols), Errc::closed.
  static Result<BlockingClient> connect(const std::string& path, const Protocol& protocol,
                                        std::chrono::milliseconds timeout,
                                        std::size_t max_frame = kDefaultMaxFrame);
  // The same over a socket that is already connected (takes ownership).
  static Result<BlockingClient> adopt(Fd fd, const Protocol& protocol,
                                      std::chrono::milliseconds timeout,
                                      std::size_t max_frame = kDefaultMaxFrame);

  // Sends `req` and waits up to `timeout` for its reply. Errors: Errc::timeout,
  // Errc::closed, the peer's error (error frame), Errc::protocol (bad reply),
  // Errc::too_large. After an error other than a peer error or a timeout the
  // connection is unusable.
  template <Message Req>
  Result<typename Req::Reply> call(const Req& req, std::chrono::milliseconds timeout) {
    auto f = call_frame(encode(req), timeout);
    if (!f) return std::move(f).error();
    return decode<typename Req::Reply>(*f);
  }
  // Sends `m` as a notice (id 0, no reply).
  template <Message M>
  Result<void> notify(const M& m, std::chrono::milliseconds timeout) {
    return send(encode(m), deadline(timeout));
  }
  // Frame-level call: sets the id, returns the reply frame (an error frame
  // becomes its Error).
  Result<Frame> call_frame(Frame f, std::chrono::milliseconds timeout);

 private:
  using Clock = std::chrono::steady_clock;
  BlockingClient(Fd fd, std::size_t max_frame) : fd_(std::move(fd)), reader_(max_frame) {}
  static Clock::time_point deadline(std::chrono::milliseconds t) { return Clock::now() + t; }
  Result<void> send(const Frame& f, Clock::time_point until);
  Result<Frame> receive(Clock::time_point until);

  Fd fd_;
  FrameReader reader_;
  std::uint64_t next_id_ = 1;
};

// One request on a fresh connection: connect, hello, call, close. `timeout`
// bounds the whole exchange.
template <Message Req>
Result<typename Req::Reply> call(const std::string& path, const Protocol& protocol, const Req& req,
                                 std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  auto c = BlockingClient::connect(path, protocol, timeout);
  if (!c) return std::move(c).error();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      timeout - (std::chrono::steady_clock::now() - start));
  return c->call(req, left);
}

}  // namespace posthorn::ipc

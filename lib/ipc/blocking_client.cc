// lib/ipc/blocking_client.cc - see blocking_client.h.
//
// The socket is non-blocking and every wait is a poll() with the time left
// until the deadline, so a server that stops reading or answering costs the
// caller at most its timeout.
#include "lib/ipc/blocking_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "lib/ipc/unix_socket.h"

namespace posthorn::ipc {

namespace {

// Waits for `events` on fd; Errc::timeout once `until` has passed.
Result<void> wait_for(int fd, short events, std::chrono::steady_clock::time_point until) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(Errc::timeout, "no answer in time");
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return sys_error("poll");
  }
}

}  // namespace

Result<BlockingClient> BlockingClient::connect(const std::string& path, const Protocol& protocol,
                                               std::chrono::milliseconds timeout,
                                               std::size_t max_frame) {
  auto fd = connect_unix(path);
  if (!fd) return std::move(fd).error();
  return adopt(std::move(*fd), protocol, timeout, max_frame);
}

Result<BlockingClient> BlockingClient::adopt(Fd fd, const Protocol& protocol,
                                             std::chrono::milliseconds timeout,
                                             std::size_t max_frame) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) return sys_error("fcntl");
  BlockingClient c(std::move(fd), max_frame);
  auto until = deadline(timeout);
  auto sent = c.send(hello_frame(protocol), until);
  if (!sent) return std::move(sent).error();
  auto hello = c.receive(until);
  if (!hello) return std::move(hello).error();
  auto ok = check_hello(*hello, protocol);
  if (!ok) return std::move(ok).error();
  return c;
}

Result<void> BlockingClient::send(const Frame& f, Clock::time_point until) {
  std::string bytes = serialize(f);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto w = wait_for(fd_.get(), POLLOUT, until);
      if (!w) return w;
    } else if (n < 0 && errno != EINTR) {
      Error e = sys_error("send");
      if (errno == EPIPE || errno == ECONNRESET) e.code = Errc::closed;
      return e;
    }
  }
  return {};
}

Result<Frame> BlockingClient::receive(Clock::time_point until) {
  std::string chunk(16 * 1024, '\0');  // one read; frames are assembled by reader_
  for (;;) {
    auto f = reader_.next();
    if (!f) return std::move(f).error();
    if (*f) return std::move(**f);
    ssize_t n = ::recv(fd_.get(), chunk.data(), chunk.size(), 0);
    if (n > 0) {
      reader_.feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    } else if (n == 0) {
      return make_error(Errc::closed, "server closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      auto w = wait_for(fd_.get(), POLLIN, until);
      if (!w) return std::move(w).error();
    } else if (errno != EINTR) {
      return sys_error("recv");
    }
  }
}

Result<Frame> BlockingClient::call_frame(Frame f, std::chrono::milliseconds timeout) {
  auto until = deadline(timeout);
  f.kind = Kind::request;
  f.id = next_id_++;
  auto sent = send(f, until);
  if (!sent) return std::move(sent).error();
  for (;;) {
    auto r = receive(until);
    if (!r) return r;
    // Replies to earlier calls that timed out arrive first; skip them.
    if (r->id != f.id) continue;
    if (r->kind == Kind::error) return error_from_frame(*r);
    if (r->kind != Kind::reply) return make_error(Errc::protocol, "server sent a non-reply frame");
    return r;
  }
}

}  // namespace posthorn::ipc

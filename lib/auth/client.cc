// lib/auth/client.cc - see client.h.
#include "lib/auth/client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "lib/base/strings.h"
#include "lib/ipc/blocking_client.h"

namespace posthorn::auth {

std::string service_socket(const std::string& service) {
  if (service.find('/') != std::string::npos) return service;
  return "private/" + service;
}

Result<Fd> connect_nonblocking(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path || path.find('\0') != std::string::npos)
    return make_error(Errc::invalid, cat("unusable socket path \"", printable(path), "\""));
  std::memcpy(a.sun_path, path.data(), path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("socket");
  // A UNIX stream connect completes at once or fails; it never answers
  // EINPROGRESS. EAGAIN means the backlog is full: we do not wait for room.
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int e = errno;
    Error err = sys_error(cat("connect ", path), e);
    if (e == ENOENT) err.code = Errc::not_found;
    if (e == ECONNREFUSED) err.code = Errc::closed;
    if (e == EAGAIN) err.code = Errc::busy;
    if (e == EACCES || e == EPERM) err.code = Errc::permission;
    return err;
  }
  return fd;
}

Result<Checked> check_blocking(const std::string& socket_path, const Check& req,
                               std::chrono::milliseconds timeout) {
  return ipc::call(socket_path, kProtocol, req, timeout);
}

Client::Client(event::EventBase& base, std::string socket_path, std::chrono::milliseconds timeout)
    : base_(base), path_(std::move(socket_path)), timeout_(timeout),
      failure_timer_(base, [this] { run_failures(); }) {}

Client::~Client() = default;

void Client::check(const Check& req, Done done) {
  if (conn_ && !conn_->open()) conn_.reset();
  if (!conn_) {
    auto fd = connect_nonblocking(path_);
    if (!fd) return fail_later(std::move(fd).error(), std::move(done));
    conn_ = std::make_unique<ipc::Client>(base_, std::move(*fd), ipc::ClientOptions{kProtocol});
  }
  conn_->request(req, timeout_, std::move(done));
}

void Client::fail_later(Error e, Done done) {
  failures_.emplace_back(std::move(e), std::move(done));
  failure_timer_.start(std::chrono::milliseconds(0));
}

void Client::run_failures() {
  // Taken out first: a callback may check() again (and queue a new failure).
  auto due = std::move(failures_);
  failures_.clear();
  for (auto& f : due) event::guarded("auth client", [&] { f.second(std::move(f.first)); });
}

}  // namespace posthorn::auth

// smtp/transport.cc - see transport.h.
#include "smtp/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/err.h>

#include "lib/base/strings.h"

namespace posthorn::smtp {

namespace {

using Clock = std::chrono::steady_clock;

Millis left(Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<Millis>(deadline - Clock::now());
  return d.count() > 0 ? d : Millis(0);
}

Result<bool> poll_fd(int fd, short events, Millis limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left(deadline).count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return sys_error("poll");
  }
}

// A TLS error as one line, with OpenSSL's queue drained.
Error ssl_error(std::string_view what, int rc) {
  std::string detail = tls::openssl_errors();
  if (rc == SSL_ERROR_SYSCALL && errno != 0) detail = std::strerror(errno);
  return make_error(Errc::protocol, what.empty() ? detail : cat(what, ": ", detail));
}

}  // namespace

Result<bool> SocketTransport::wait(short events, Millis limit) { return poll_fd(fd_.get(), events, limit); }

Result<void> SocketTransport::send(std::string_view bytes, Millis stall) {
  while (!bytes.empty()) {
    long n;
    short want = POLLOUT;
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_write(ssl_.get(), bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30)));
      if (rc > 0) {
        n = rc;
      } else {
        int e = SSL_get_error(ssl_.get(), rc);
        if (e == SSL_ERROR_WANT_READ) want = POLLIN;
        else if (e != SSL_ERROR_WANT_WRITE) return ssl_error("TLS write", e);
        n = -1;
      }
    } else {
      n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EPIPE) return make_error(Errc::closed, "connection closed by peer");
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return sys_error("write");
    }
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    auto ready = wait(want, stall);
    if (!ready) return ready.error();
    if (!*ready) return make_error(Errc::timeout, "write timed out");
  }
  return {};
}

Result<std::string> SocketTransport::receive(Millis limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  char buf[16384];
  for (;;) {
    short want = POLLIN;
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_read(ssl_.get(), buf, sizeof buf);
      if (rc > 0) return std::string(buf, static_cast<std::size_t>(rc));
      int e = SSL_get_error(ssl_.get(), rc);
      if (e == SSL_ERROR_ZERO_RETURN) return make_error(Errc::closed, "connection closed by peer");
      if (e == SSL_ERROR_SYSCALL && tls::openssl_errors().find("no detail") != std::string::npos && errno == 0)
        return make_error(Errc::closed, "connection closed by peer");
      if (e == SSL_ERROR_WANT_WRITE) want = POLLOUT;
      else if (e != SSL_ERROR_WANT_READ) return ssl_error("TLS read", e);
    } else {
      long n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
      if (n == 0) return make_error(Errc::closed, "connection closed by peer");
      if (errno == ECONNRESET) return make_error(Errc::closed, "connection reset by peer");
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return sys_error("read");
    }
    auto ready = wait(want, left(deadline));
    if (!ready) return ready.error();
    if (!*ready) return make_error(Errc::timeout, "read timed out");
  }
}

TlsResult SocketTransport::start_tls(tls::SslPtr ssl, Millis limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  if (!ssl || SSL_set_fd(ssl.get(), fd_.get()) != 1)
    return {make_error(Errc::protocol, "cannot attach TLS: " + tls::openssl_errors()), {}};
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    int e = SSL_get_error(ssl.get(), rc);
    short want;
    if (e == SSL_ERROR_WANT_READ) want = POLLIN;
    else if (e == SSL_ERROR_WANT_WRITE) want = POLLOUT;
    else return {ssl_error("", e), tls::session_info(ssl.get())};
    auto ready = wait(want, left(deadline));
    if (!ready) return {ready.error(), tls::session_info(ssl.get())};
    if (!*ready) return {make_error(Errc::timeout, "TLS handshake timed out"), tls::session_info(ssl.get())};
  }
  tls::SessionInfo info = tls::session_info(ssl.get());
  ssl_ = std::move(ssl);
  return {Result<void>{}, std::move(info)};
}

Result<std::unique_ptr<SocketTransport>> connect_tcp(const dns::Address& addr, unsigned port,
                                                     std::string_view bind_address, Millis limit) {
  sockaddr_storage sa = addr.sockaddr;
  if (sa.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&sa)->sin_port = htons(static_cast<std::uint16_t>(port));
  else reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port = htons(static_cast<std::uint16_t>(port));
  Fd fd(::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return sys_error("socket");
  if (!bind_address.empty()) {
    sockaddr_storage local{};
    socklen_t len = 0;
    const std::string b(bind_address);
    if (sa.ss_family == AF_INET) {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&local);
      s4->sin_family = AF_INET;
      if (inet_pton(AF_INET, b.c_str(), &s4->sin_addr) != 1)
        return make_error(Errc::invalid, "bad bind address " + b);
      len = sizeof(sockaddr_in);
    } else {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&local);
      s6->sin6_family = AF_INET6;
      if (inet_pton(AF_INET6, b.c_str(), &s6->sin6_addr) != 1)
        return make_error(Errc::invalid, "bad bind address " + b);
      len = sizeof(sockaddr_in6);
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), len) != 0) return sys_error("bind " + b);
  }
  const socklen_t len = sa.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    if (errno != EINPROGRESS) return make_error(Errc::io, std::strerror(errno));
    auto ready = poll_fd(fd.get(), POLLOUT, limit);
    if (!ready) return ready.error();
    if (!*ready) return make_error(Errc::timeout, "Connection timed out");
    int err = 0;
    socklen_t elen = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return sys_error("getsockopt");
    if (err != 0) return make_error(Errc::io, std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return std::make_unique<SocketTransport>(std::move(fd));
}

}  // namespace posthorn::smtp

// smtp/transport.h - the byte stream under an SMTP session, with a limit
// on every wait.
//
// Transport is the small interface the session (session.h) talks through,
// so that unit tests can substitute a scripted peer. SocketTransport is the
// real one: a non-blocking TCP socket, optionally under OpenSSL after
// STARTTLS, where every wait is a poll() with a time limit. This process
// handles one delivery at a time (main.cc), so waiting in poll() blocks
// nothing else; nothing waits without a limit.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/dns/answer.h"
#include "lib/tls/owned.h"
#include "lib/tls/session.h"

namespace posthorn::smtp {

using Millis = std::chrono::milliseconds;

// The end of a TLS handshake: `ok` and what the handshake told (also after
// a failure, when verification refused the peer).
struct TlsResult {
  Result<void> ok;
  tls::SessionInfo info;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Writes all of `bytes`. Errc::timeout when no byte could be written for
  // `stall`, Errc::closed when the peer went away, Errc::io otherwise.
  virtual Result<void> send(std::string_view bytes, Millis stall) = 0;
  // Returns at least one byte read within `limit`. Errc::timeout,
  // Errc::closed (end of stream), Errc::io, Errc::protocol (TLS failure).
  virtual Result<std::string> receive(Millis limit) = 0;
  // Runs the TLS client handshake over the stream with `ssl` (the stream
  // then carries TLS). Errc::timeout, Errc::protocol on failure.
  virtual TlsResult start_tls(tls::SslPtr ssl, Millis limit) = 0;
  virtual bool tls_active() const = 0;
};

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(Fd fd) : fd_(std::move(fd)) {}
  Result<void> send(std::string_view bytes, Millis stall) override;
  Result<std::string> receive(Millis limit) override;
  TlsResult start_tls(tls::SslPtr ssl, Millis limit) override;
  bool tls_active() const override { return ssl_ != nullptr; }

 private:
  // Waits until the socket is readable (`events` POLLIN) or writable
  // (POLLOUT); false on timeout.
  Result<bool> wait(short events, Millis limit);

  Fd fd_;
  tls::SslPtr ssl_;
};

// Opens a TCP connection to `addr` port `port` within `limit`, from
// `bind_address` when not empty (smtp_bind_address / smtp_bind_address6).
// Errors: Errc::timeout, Errc::io with strerror ("Connection refused").
Result<std::unique_ptr<SocketTransport>> connect_tcp(const dns::Address& addr, unsigned port,
                                                     std::string_view bind_address, Millis limit);

}  // namespace posthorn::smtp

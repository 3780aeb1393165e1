// lib/event/connection.h - a byte stream on the event loop: a bufferevent
// over a plain socket or over OpenSSL.
//
// Guarantees:
// - Input never grows past max(max_input, max_line + 1) bytes: libevent stops
//   reading from the socket at that read watermark, so a peer cannot make us
//   buffer more, and read_line() can always tell an over-long line.
// - Output has watermarks: once more than output_high bytes wait to be sent,
//   reading from the peer pauses; it resumes when output drains to
//   output_low (STYLE.md section 6). A peer that does not read cannot make
//   us queue its replies without bound.
// - With idle_timeout set, a connection on which nothing could be read (while
//   reading is wanted) or written for that long is closed with Errc::timeout.
// - The close callback runs at most once: peer EOF (Errc::closed), an error
//   (Errc::io, or Errc::protocol for TLS failures), a timeout (Errc::timeout)
//   or the end of close_after_flush() (Errc::closed). After it, no callback
//   runs again; the owner destroys the Connection.
// - Callbacks may destroy the Connection as their last act.
#pragma once

#include <event2/bufferevent.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/event/callback.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"

namespace posthorn::event {

using SslPtr = Owned<SSL, SSL_free>;
using SslCtxPtr = Owned<SSL_CTX, SSL_CTX_free>;

enum class TlsRole { client, server };

struct ConnectionOptions {
  std::size_t max_line = 4096;       // longest line read_line() accepts, terminator included
  std::size_t max_input = 64 * 1024; // read watermark (raised to max_line + 1 if smaller)
  std::size_t output_high = 256 * 1024;
  std::size_t output_low = 64 * 1024;
  std::chrono::milliseconds idle_timeout{0};  // 0: none
};

class Connection {
 public:
  using ReadFn = std::function<void()>;
  using CloseFn = std::function<void(const Error&)>;
  using TlsReadyFn = std::function<void()>;

  // Wraps a connected non-blocking socket; takes ownership of `fd`.
  // Panics only when libevent cannot allocate (out of memory).
  static std::unique_ptr<Connection> plain(EventBase& base, Fd fd, ConnectionOptions opts = {});
  // Wraps `fd` in TLS from the first byte (implicit TLS, port 465/993/995).
  // Takes ownership of both; the handshake runs on the loop and its failure
  // arrives as the close callback with Errc::protocol.
  static std::unique_ptr<Connection> tls(EventBase& base, Fd fd, SslPtr ssl, TlsRole role,
                                         ConnectionOptions opts = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs whenever new input arrived (also after resume_reading() with input
  // still buffered). The callee consumes what it can; the rest stays.
  void on_read(ReadFn fn) { read_fn_ = share_fn<void()>(std::move(fn)); }
  void on_close(CloseFn fn) { close_fn_ = share_fn<void(const Error&)>(std::move(fn)); }
  // Runs when a TLS handshake has completed.
  void on_tls_ready(TlsReadyFn fn) { tls_fn_ = share_fn<void()>(std::move(fn)); }

  std::size_t input_size() const;
  // The first min(n, input_size()) input bytes, contiguous; valid until the
  // input changes (drain, read, or returning to the loop).
  std::string_view peek(std::size_t n);
  void drain(std::size_t n);
  std::string read(std::size_t n);
  // One LF-terminated line, terminator ("\n" or "\r\n") included, as sent.
  // nullopt: no complete line yet. Errc::too_large: the line is longer than
  // max_line; nothing is consumed, reading pauses, and the caller should close.
  Result<std::optional<std::string>> read_line();

  // Queues bytes for sending; never blocks. Ignored after close.
  void write(std::string_view bytes);
  std::size_t output_size() const;

  // The owner's own flow control (e.g. waiting for a queue write); independent
  // of the output watermarks. The idle timeout does not run while paused.
  void pause_reading();
  void resume_reading();
  bool reading() const;

  // Stops reading, sends what is queued (after STARTTLS: until the socket has
  // taken the encrypted bytes too), then runs the close callback with
  // Errc::closed ("closed after flush").
  void close_after_flush();

  // STARTTLS: discards unread plaintext input (RFC 3207 section 4.2: nothing
  // pipelined before the handshake may be acted on), then runs TLS over the
  // existing stream. Output already queued is sent in plaintext first.
  void start_tls(SslPtr ssl, TlsRole role);
  SSL* ssl() const;  // nullptr while plaintext
  int fd() const;
  bool closed() const { return closed_; }

  void set_idle_timeout(std::chrono::milliseconds t);

 private:
  Connection(EventBase& base, bufferevent* bev, ConnectionOptions opts);
  void install();
  void update_reading();
  void finish(Error e);
  // Output not yet on the socket, an underlying (STARTTLS) bufferevent's included.
  std::size_t unsent() const;
  void close_when_sent();
  void kick();
  static void read_cb(bufferevent*, void* arg);
  static void write_cb(bufferevent*, void* arg);
  static void event_cb(bufferevent*, short what, void* arg);
  Error describe_error(short what) const;
  // OpenSSL's queued errors of a bufferevent, "; "-joined: set by
  // connection_tls.cc when it makes the first TLS connection, so this file
  // names no OpenSSL function and plain-only programs do not link it.
  static std::string (*tls_errors_)(bufferevent* bev);

  EventBase& base_;
  ConnectionOptions opts_;
  Owned<bufferevent, bufferevent_free> bev_;
  SharedFn<void()> read_fn_;
  SharedFn<void(const Error&)> close_fn_;
  SharedFn<void()> tls_fn_;
  Timer kick_;  // runs deferred work (buffered input after resume, close after flush)
  bool paused_by_owner_ = false;
  bool paused_by_output_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool tls_ = false;     // made by tls() or switched by start_tls()
  bool direct_ = true;   // write() may send() before queueing (not on a pipe)
};

}  // namespace posthorn::event

// lib/auth/client.h - asking the auth service (lib/auth/protocol.h): a
// blocking call for tools, and an event-driven client for daemons.
//
// Guarantees (Client): never blocks the event loop, not even to connect (the
// socket is connected non-blocking; a listener whose backlog is full is an
// error, not a wait); every check has a timer; the callback runs exactly
// once and never inside check(). A connection that ended is replaced on the
// next check, so a restarted auth service is found again without a reload.
// The service has no idle timeout (auth/server.h): a connection is not
// closed under a check that is being sent on it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/auth/protocol.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/client.h"

namespace posthorn::auth {

// The socket of the auth service named `service` (smtpd_sasl_path): a name
// without '/' is queue_directory's private/NAME, given relative to the
// queue directory (where daemons run); anything else is a path as it is.
std::string service_socket(const std::string& service);

// Connects to the UNIX stream socket at `path` without blocking. The result
// is connected, non-blocking and close-on-exec. Errors: Errc::not_found (no
// socket there), Errc::closed (nobody listens), Errc::busy (the listener's
// backlog is full), Errc::permission, Errc::invalid (path too long), Errc::io.
// XXX: belongs in lib/ipc/unix_socket.h beside connect_unix(); it lives here
// until that module grows a non-blocking variant.
Result<Fd> connect_nonblocking(const std::string& path);

// One check on a fresh connection, waiting at most `timeout` in all.
// Errors: those of ipc::BlockingClient (the service is not running:
// Errc::not_found or Errc::closed).
Result<Checked> check_blocking(const std::string& socket_path, const Check& req,
                               std::chrono::milliseconds timeout);

class Client {
 public:
  using Done = std::function<void(Result<Checked>)>;

  // `socket_path` as from service_socket(); `timeout` bounds each check.
  Client(event::EventBase& base, std::string socket_path, std::chrono::milliseconds timeout);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `req`; `done` gets the reply or an Error (connect failure,
  // Errc::timeout, Errc::closed when the service went away): every Error
  // means "no answer", which callers treat as a temporary failure.
  void check(const Check& req, Done done);

 private:
  void fail_later(Error e, Done done);
  void run_failures();

  event::EventBase& base_;
  std::string path_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<ipc::Client> conn_;
  // Connect failures are reported from the loop, keeping the promise that
  // `done` never runs inside check().
  std::vector<std::pair<Error, Done>> failures_;
  event::Timer failure_timer_;
};

}  // namespace posthorn::auth

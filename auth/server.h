// auth/server.h - the auth service's connections: lib/ipc protocol "auth"
// (lib/auth/protocol.h) served by an ipc::Server over the connections that
// master hands over.
//
// Guarantees: a failed check is answered auth_failure_delay after it arrived,
// by a timer: the other requests, on this connection and on others, are
// answered meanwhile (nothing sleeps). An answer whose connection has ended
// is dropped. A well-framed request that is not a `check`, or does not
// decode, gets an error reply and the connection stays open; a framing error
// closes that connection only (lib/ipc). Notices (id 0) are not acted on: a
// check nobody waits for would only feed the failure count.
// Connections have no idle timeout: a client (one per smtpd process) keeps
// its connection for its life, and a process ends its connections when it
// exits or retires.
// Logging: one line per check when it is decided (before any delay):
// "login=..., client=..., service=...: ok" at info, failures as warnings
// with the reason (fail2ban can count them); never a password.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "auth/checker.h"
#include "lib/base/fd.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/server.h"
#include "lib/service/service.h"

namespace posthorn::auth {

struct ServerSettings {
  std::chrono::milliseconds failure_delay{2000};  // auth_failure_delay
};

class Server {
 public:
  // `table_trouble` runs when a changed table could not be reopened (the
  // daemon retires, so that master starts a process that can read it).
  Server(event::EventBase& base, Checker checker, ServerSettings settings,
         std::function<void(const Error&)> table_trouble = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves a connected socket; `job` keeps the process busy until it ends.
  void adopt(Fd fd, service::Job job);
  std::size_t connections() const { return ipc_.connections(); }
  std::size_t delayed() const { return delayed_.size(); }

 private:
  void check(Check req, ipc::Replier r);

  event::EventBase& base_;
  Checker checker_;
  ServerSettings settings_;
  std::function<void(const Error&)> table_trouble_;
  bool table_trouble_reported_ = false;
  ipc::Server ipc_;
  // Failure answers waiting for their delay.
  std::map<std::uint64_t, std::unique_ptr<event::Timer>> delayed_;
  std::uint64_t next_key_ = 0;
};

}  // namespace posthorn::auth

// imapd/client.h - one IMAP connection: the socket (lib/event Connection,
// plain or implicit TLS), the protocol engine (imapd/session.h), and the
// owner's side of it: password checks, opening the store, STARTTLS, IDLE's
// folder watch, and the timers.
//
// Guarantees:
// - input reaches the session only while it can act on it: while a password
//   check, a TLS handshake or a congested FETCH is pending, reading pauses,
//   so a session's memory is bounded by the connection's read watermark,
//   the output's high watermark and the largest literal (imap_max_literal);
// - every wait has a timer: the login (imap_login_timeout, from the accept
//   to a successful login), the client's silence afterwards (imap_timeout,
//   which IDLE does not interrupt: RFC 2177 clients re-IDLE before 30
//   minutes), the password check (the Backend's own);
// - after STARTTLS, input that came with or after the command is dropped
//   (RFC 3501 6.2.1, as Connection::start_tls does);
// - on_done runs once, when the connection has closed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "imapd/folder_watch.h"
#include "imapd/session.h"
#include "lib/base/fd.h"
#include "lib/event/connection.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/tls/server.h"

namespace posthorn::imapd {

// What the connection asks of the rest of the process.
class Backend {
 public:
  virtual ~Backend() = default;
  // As Host::check_password, with the client's address for the auth
  // service's failure count. `done` runs from the loop, exactly once,
  // unless the Backend is destroyed first.
  virtual void check_password(const std::string& login, const std::string& password,
                              const std::string& client_addr,
                              std::function<void(AuthAnswer)> done) = 0;
  // As Host::open_store.
  virtual Result<mailstore::Store> open_store(const std::string& login) = 0;
};

struct ClientOptions {
  Settings session;
  std::chrono::milliseconds login_timeout{60000};  // imap_login_timeout
  std::chrono::milliseconds timeout{1800000};      // imap_timeout
  tls::ReloadingServerContext* tls = nullptr;      // STARTTLS or implicit TLS; null: none
  bool wrappermode = false;                        // implicit TLS (port 993)
};

class Client : public Host {
 public:
  using DoneFn = std::function<void()>;

  // Takes the accepted socket and starts the session. `label` is
  // "name[addr]" for the log, `addr` the address for the auth service.
  Client(event::EventBase& loop, Fd fd, std::string label, std::string addr,
         const ClientOptions& options, Backend& backend, DoneFn on_done);
  ~Client() override;

  const Session& session() const { return *session_; }

  // Host.
  void send(std::string_view bytes) override;
  bool congested() const override;
  void check_password(const std::string& login, const std::string& password,
                      std::function<void(AuthAnswer)> done) override;
  Result<mailstore::Store> open_store(const std::string& login) override;
  void start_tls() override;
  void watch(const std::filesystem::path& folder_dir) override;
  void unwatch() override;
  void resume() override;
  void log(std::string_view line) override;

 private:
  void on_read();
  void on_close(const Error& e);
  void after_feed();
  void poll_output();

  const ClientOptions& o_;
  Backend& backend_;
  std::string label_, addr_;
  std::unique_ptr<event::Connection> conn_;
  std::unique_ptr<Session> session_;
  FolderWatch watch_;
  event::Timer login_timer_;
  // XXX: event::Connection tells nobody when its output has drained, so a
  // FETCH that stopped on a congested output is resumed by polling.
  event::Timer drain_timer_;
  DoneFn on_done_;
  std::shared_ptr<bool> alive_;  // checked by callbacks that may outlive us
  bool tls_pending_ = false;
  bool closed_ = false;
};

}  // namespace posthorn::imapd

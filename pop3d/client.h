// pop3d/client.h - one POP3 connection: the socket (lib/event Connection,
// plain or implicit TLS), the protocol engine (pop3d/session.h), and the
// owner's side of it: password checks, opening the mailbox, STLS.
//
// Guarantees:
// - input is handed to the session only while the connection reads: above
//   the output's high watermark (a large RETR, or a client that pipelines
//   and does not read) nothing more is taken until the output drains, so a
//   session's memory is bounded by the watermark plus the largest message;
// - while a password check is pending, reading pauses (the client may
//   pipeline nothing that is acted on before the answer);
// - every wait has a timer: the client's silence (timeout, pop3_timeout),
//   the TLS handshake (the same), the password check (the Backend's own);
// - after STLS, input that came with or after the command is dropped
//   (RFC 2595 section 4, as lib/event Connection::start_tls does);
// - on_done runs once, when the connection has closed; the session's
//   deletions happened only if the client said QUIT.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/base/fd.h"
#include "lib/event/connection.h"
#include "lib/event/event_base.h"
#include "lib/tls/server.h"
#include "pop3d/session.h"

namespace posthorn::pop3d {

// What the connection asks of the rest of the process.
class Backend {
 public:
  virtual ~Backend() = default;
  using Checked = std::function<void(PasswordCheck)>;
  // Checks a password; `done` runs later from the loop, exactly once, unless
  // the Backend is destroyed first. `client_addr` is for the failure count.
  virtual void check_password(const std::string& login, const std::string& password,
                              const std::string& client_addr, Checked done) = 0;
  // As Host::open_mailbox.
  virtual Result<std::unique_ptr<Mailbox>> open_mailbox(const std::string& login) = 0;
};

struct ClientOptions {
  Settings session;
  std::chrono::milliseconds timeout{600000};  // pop3_timeout
  tls::ReloadingServerContext* tls = nullptr; // STLS or implicit TLS; null: no TLS
  bool wrappermode = false;                   // implicit TLS (port 995)
};

class Client : public Host {
 public:
  using DoneFn = std::function<void()>;

  // Takes the accepted socket; starts the session at once. `label` is
  // "name[addr]" for the log, `addr` the address for the auth service.
  Client(event::EventBase& loop, Fd fd, std::string label, std::string addr,
         const ClientOptions& options, Backend& backend, DoneFn on_done);
  ~Client() override;

  const Session& session() const { return *session_; }

  // Host.
  void send(std::string_view bytes) override;
  bool congested() const override;
  void check_password(const std::string& login, const std::string& password) override;
  Result<std::unique_ptr<Mailbox>> open_mailbox(const std::string& login) override;
  void start_tls() override;

 private:
  void on_read();
  void on_close(const Error& e);
  void tls_ready();
  void after_feed();

  const ClientOptions& o_;
  Backend& backend_;
  std::string label_, addr_;
  std::unique_ptr<event::Connection> conn_;
  std::unique_ptr<Session> session_;
  DoneFn on_done_;
  bool tls_requested_ = false;
  bool tls_up_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for late answers
};

}  // namespace posthorn::pop3d

// pop3d/session.h - the POP3 server protocol engine: RFC 1939 (USER, PASS,
// STAT, LIST, RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL and the AUTHORIZATION,
// TRANSACTION and UPDATE states), RFC 2449 (CAPA, response codes [IN-USE],
// [AUTH], [SYS/TEMP], [SYS/PERM]; PIPELINING), RFC 2595 (STLS) and RFC 5034
// (AUTH with SASL PLAIN and LOGIN).
//
// Purpose:    one session's protocol state, with no I/O of its own: the owner
//             feeds it what the client sent and supplies a Host, through
//             which the session answers, asks for password checks (answered
//             later through password_checked()), opens the mailbox after a
//             login and starts TLS. Tests drive it with a fake Host.
// Guarantees: - replies do not depend on how the input was split among
//               feed() calls; feed() consumes only whole lines, and only as
//               many as the session may act on now (not while a password
//               check or a TLS handshake is pending, nor while the Host says
//               its output is congested), so unread input stays with the
//               owner, where its own flow control applies;
//             - messages are marked by DELE and removed only at QUIT, in the
//               UPDATE state (RFC 1939 section 6); a session that ends any
//               other way (time-out, the client going away, too many errors)
//               removes nothing;
//             - every line of a multi-line reply ends in CR LF, lines that
//               begin with "." are byte-stuffed, and the octet counts of
//               STAT, LIST and RETR are those of the message with CR LF line
//               ends (pop3d/transfer.h);
//             - a command line is at most Settings::max_line bytes, CR LF
//               included (RFC 2449 allows 255 for commands; SASL responses
//               are longer); a longer one is answered with -ERR and ends
//               the session;
//             - a password is never kept past its check and never logged.
// Refusals:   before TLS, USER/PASS and AUTH are refused with
//             "-ERR [AUTH] Plaintext authentication disallowed on non-secure
//             connections" unless Settings::plaintext_auth; they are not
//             listed in CAPA then. APOP is not offered (it needs the plain
//             password on the server). After auth_failure_limit failed
//             logins, or max_bad_commands unknown or malformed commands, the
//             session ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/auth/sasl.h"
#include "lib/base/result.h"

namespace posthorn::pop3d {

// One message as the session lists it.
struct MessageInfo {
  std::uint64_t octets = 0;  // size with CR LF line ends (STAT, LIST, RETR)
  std::string uidl;          // RFC 1939 section 7: 1..70 characters 0x21..0x7e
};

// The mailbox of a logged-in session, locked for it (the maildrop lock of
// RFC 1939 section 4). Message n of the session is messages()[n - 1]; the
// list does not change during the session.
class Mailbox {
 public:
  virtual ~Mailbox() = default;
  virtual const std::vector<MessageInfo>& messages() const = 0;
  // The stored bytes of the message at `index` (0-based). Errors:
  // Errc::not_found when another program removed it meanwhile, Errc::io.
  virtual Result<std::string> read(std::size_t index) = 0;
  // Removes the messages at `indices` (the UPDATE state). Messages already
  // gone count as removed. Errors: Errc::io when some could not be removed.
  virtual Result<void> remove(const std::vector<std::size_t>& indices) = 0;
};

// What the auth service said about a password.
struct PasswordCheck {
  enum Verdict { ok, wrong, temporary } verdict = wrong;
  std::string login;  // when ok: the canonical login, whose mailbox opens
};

// The owner's side.
class Host {
 public:
  virtual ~Host() = default;
  // Reply bytes, in order.
  virtual void send(std::string_view bytes) = 0;
  // True while sent output waits above the owner's high watermark: the
  // session then takes no further command until the next feed().
  virtual bool congested() const { return false; }
  // Starts a check; the owner answers with Session::password_checked(),
  // never from within this call.
  virtual void check_password(const std::string& login, const std::string& password) = 0;
  // Opens and locks the mailbox of `login` after a successful check (pop3d
  // switches to the mailbox owner first). Errors decide the reply:
  // Errc::busy -> [IN-USE]; Errc::not_found, permission, invalid,
  // unsupported -> [SYS/PERM]; anything else -> [SYS/TEMP]. The session
  // ends after any of them.
  virtual Result<std::unique_ptr<Mailbox>> open_mailbox(const std::string& login) = 0;
  // STLS was accepted and its "+OK" sent: the owner starts the handshake
  // once feed() has returned, then calls Session::tls_started().
  virtual void start_tls() = 0;
};

struct Settings {
  std::string banner = "Posthorn ready";  // text after +OK in the greeting (pop3_banner)
  bool tls_offered = false;      // STLS can be offered (a certificate is loaded)
  bool tls_active = false;       // TLS from the first byte (port 995)
  bool plaintext_auth = false;   // pop3_plaintext_auth: USER/PASS, AUTH before TLS
  std::size_t auth_failure_limit = 3;  // pop3_auth_failure_limit
  std::size_t max_bad_commands = 20;   // unknown or malformed commands before the end
  std::size_t max_line = 4096;         // longest command line, CR LF included
};

class Session {
 public:
  enum class State { authorization, transaction, closed };

  // `host` must outlive the session.
  Session(Settings settings, Host& host);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends the greeting. Call once, before feed().
  void start();
  // Acts on the complete lines at the front of `bytes` as far as it may
  // (see above) and returns how many bytes it consumed; the owner keeps the
  // rest and offers it again with what arrives next.
  std::size_t feed(std::string_view bytes);
  // The answer to Host::check_password().
  void password_checked(const PasswordCheck& check);
  // The STLS handshake has completed: the session is now secure.
  void tls_started();

  // A password check or a TLS handshake is pending: feed() takes nothing.
  bool waiting() const { return checking_ || tls_pending_; }
  bool tls_pending() const { return tls_pending_; }
  bool finished() const { return state_ == State::closed; }
  State state() const { return state_; }

  // For the log.
  const std::string& login() const { return login_; }
  std::size_t retrieved() const { return retrieved_; }
  std::size_t removed() const { return removed_; }
  std::size_t auth_failures() const { return auth_failures_; }

 private:
  using Handler = void (Session::*)(std::string_view arg);
  struct Verb {
    std::string_view name;
    Handler run;
    unsigned states;  // bit per State
  };
  static const Verb kVerbs[];

  void dispatch(std::string_view line);
  void sasl_response(std::string_view line);
  void bad_command(std::string_view text);

  // AUTHORIZATION.
  void user(std::string_view arg);
  void pass(std::string_view arg);
  void auth(std::string_view arg);
  void stls(std::string_view arg);
  void capa(std::string_view arg);
  void quit(std::string_view arg);
  // TRANSACTION.
  void stat(std::string_view arg);
  void list(std::string_view arg);
  void retr(std::string_view arg);
  void top(std::string_view arg);
  void dele(std::string_view arg);
  void noop(std::string_view arg);
  void rset(std::string_view arg);
  void uidl(std::string_view arg);

  bool login_allowed() const { return tls_active_ || s_.plaintext_auth; }
  void take_step(const auth::Step& step);
  void check(std::string login, std::string password);
  void login_failed(std::string_view text);
  void open_mailbox(const std::string& login);
  // Message number argument: the index, or nullopt after an -ERR was sent.
  std::optional<std::size_t> message_arg(std::string_view arg);
  void send_message(std::size_t index, std::optional<std::uint64_t> body_lines);
  void ok(std::string_view text);
  void err(std::string_view text);
  void close() { state_ = State::closed; }

  Settings s_;
  Host& host_;
  State state_ = State::authorization;
  bool tls_active_ = false;
  bool tls_pending_ = false;
  bool checking_ = false;
  std::optional<std::string> user_;              // USER given, PASS due
  std::optional<auth::Exchange> sasl_;           // AUTH exchange in progress
  std::unique_ptr<Mailbox> mailbox_;
  std::vector<bool> deleted_;
  std::string login_;
  std::size_t auth_failures_ = 0;
  std::size_t bad_commands_ = 0;
  std::size_t retrieved_ = 0;
  std::size_t removed_ = 0;
  std::string out_;  // one reply being built (multi-line replies)
};

}  // namespace posthorn::pop3d

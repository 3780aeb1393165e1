// smtpd/session.h - the SMTP server protocol engine (RFC 5321, with the
// ESMTP extensions PIPELINING RFC 2920, SIZE RFC 1870, 8BITMIME RFC 6152,
// ENHANCEDSTATUSCODES RFC 2034/3463, SMTPUTF8 RFC 6531, CHUNKING RFC 3030,
// DSN RFC 3461).
//
// Purpose:    one session's protocol state, with no I/O of its own: the owner
//             feeds it the bytes the client sent, and the session answers
//             through a callback and hands finished messages to a Sink. Tests
//             drive it with a fake Sink and strings.
// Guarantees: - the replies do not depend on how the input was split among
//               feed() calls (only the moments they are flushed do);
//             - replies are batched (RFC 2920 section 3.1): they are flushed
//               when every complete command in the input has been answered,
//               or after a command that ends a pipeline group (EHLO, HELO,
//               DATA, VRFY, EXPN, NOOP, QUIT, HELP);
//             - buffered input is bounded: a command line longer than
//               Settings::max_line is discarded as it arrives and answered
//               with 500 5.5.2 once its end arrives; message content is
//               streamed to the Sink, and beyond message_size_limit it is
//               consumed but no longer passed on;
//             - end of DATA is CR LF "." CR LF only (RFC 5321 4.1.1.4);
//               "." LF, LF "." CR LF and CR "." CR are content;
//             - the reply to the end of a message is the store's
//               (Message::commit()), which may come later: until then input
//               waits unprocessed, so nothing pipelined after the end of
//               data is acted on before that reply;
//             - time limits are the owner's (it has the clock): progress(),
//               receiving() and waiting() tell it which limit runs, and
//               timeout() ends the session as Postfix does.
// Refusals:   bare LF (an LF not preceded by CR) in a command line or in DATA
//             content is refused with 550 5.5.2, as Postfix does with
//             smtpd_forbid_bare_newline = reject: a command is not executed;
//             a message is read to its real end and then rejected, so that no
//             server that treats LF "." LF as the end can be made to see two
//             messages where we see one (SMTP smuggling, CVE-2023-51764).
//             BDAT content has no end marker and is passed on as sent.
//             Relay control and recipient checks are the Policy's
//             (smtpd/policy.h, smtpd/restrictions.h): the session asks it
//             at connect, HELO/EHLO, MAIL, RCPT and ETRN and waits for the
//             verdict with its input unread. Without a Policy (tests of the
//             protocol alone) a minimal rule applies: a recipient is
//             accepted when its domain is in mydestination, when it is
//             <postmaster>, when the client is trusted (mynetworks), or when
//             the client has authenticated and Settings::relay_authenticated
//             allows it; anything else gets 554 5.7.1 Relay access denied.
//             ETRN (RFC 1985) needs a Policy to flush through.
//
// STARTTLS (RFC 3207) and AUTH (RFC 4954) are the session's protocol part
// only (smtpd/tls_verb.cc, smtpd/auth_verb.cc): the handshake and the
// password check are the owner's, asked through the Security interface and
// answered with tls_started() and auth_checked(). Input pipelined after
// STARTTLS is discarded, never executed after the handshake (RFC 3207 4.2);
// while a password check is out, input waits unprocessed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/auth/sasl.h"
#include "lib/queue/queue_file.h"
#include "smtpd/policy.h"

namespace posthorn::smtpd {

// One message being received. Session feeds it the content (after
// dot-unstuffing, line ends as sent), then calls commit() once, or destroys
// it without commit() when the message is refused or the session ends.
class Message {
 public:
  using Done = std::function<void(Reply)>;
  virtual ~Message() = default;
  virtual void feed(std::string_view bytes) = 0;
  // Stores the message and calls `done` once with the reply, which the
  // session sends as given: 250 only once the message is safely queued, an
  // error reply otherwise. `done` may run inside commit() (a refusal known at
  // once, or a test's store) or later from the owner's event loop (the
  // durable write runs elsewhere); it must never run after the Message is
  // destroyed, and the session may destroy the Message inside `done`. A
  // Message destroyed while its store is in flight gives up the reply only:
  // the store itself completes (the file becomes a complete queue file or
  // nothing), as it would for a client that vanished after the end of data.
  virtual void commit(Done done) = 0;
};

// Where messages go (the queue through cleanup, or a test's fake).
class Sink {
 public:
  virtual ~Sink() = default;
  // A new message for `env` (sender, recipients, client, DSN fields filled).
  // Never null.
  virtual std::unique_ptr<Message> open(const queue::Envelope& env) = 0;
  // Every 4xx/5xx reply the session sends, with the transaction as it
  // stands (sender, client, HELO), the command it answers ("RCPT", "MAIL",
  // "CONNECT", "END-OF-MESSAGE", ...) and, for RCPT, the recipient (else
  // ""), for the log. The default ignores it.
  virtual void refused(const Reply& reply, const queue::Envelope& env, std::string_view command,
                       std::string_view recipient) {
    (void)reply;
    (void)env;
    (void)command;
    (void)recipient;
  }
};

// A password check the session asks its owner for (AUTH).
struct AuthRequest {
  std::string mechanism;  // "PLAIN", "LOGIN"
  auth::Credentials credentials;
};

struct AuthOutcome {
  enum Kind { ok, failed, temporary } kind = failed;
  std::string login;  // ok: the canonical login, recorded as sasl_user
};

// What the session needs from its owner for STARTTLS and AUTH. smtpd/main.cc
// does the I/O; tests use a fake.
class Security {
 public:
  virtual ~Security() = default;
  // The reply "220 2.0.0 Ready to start TLS" has gone to SendFn and the
  // session has dropped the input after STARTTLS. The owner drops what it
  // holds unread, runs the handshake, then calls Session::tls_started() (or
  // ends the session when the handshake fails).
  virtual void start_tls() = 0;
  // Checks credentials; the owner answers with Session::auth_checked(),
  // later, never from inside this call.
  virtual void check_password(const AuthRequest& req) = 0;
};

struct Settings {
  std::string myhostname = "localhost";
  std::string banner = "localhost ESMTP Posthorn";  // text after 220
  std::uint64_t message_size_limit = 10240000;      // 0 = no limit
  std::size_t recipient_limit = 1000;               // smtpd_recipient_limit
  std::size_t recipient_overshoot_limit = 1000;     // smtpd_recipient_overshoot_limit
  std::size_t hard_error_limit = 20;                // smtpd_hard_error_limit
  bool disable_vrfy = false;                        // disable_vrfy_command
  bool helo_required = false;                       // smtpd_helo_required
  std::size_t max_line = 2048;  // longest command line, CRLF included
  std::vector<std::string> mydestination;  // lower case domains
  // The client: name and address for the envelope and the Policy;
  // client_trusted (in mynetworks) and relay_authenticated serve only the
  // minimal relay rule of sessions without a Policy (sendmail -bs, tests).
  std::string client_name = "unknown";
  std::string client_addr;
  std::string client_reverse_name = "unknown";  // PTR name, confirmed or not
  bool client_name_tempfail = false;            // the name lookup failed temporarily
  bool client_trusted = false;
  // STARTTLS and AUTH; both need a Security owner. An AUTH mechanism list
  // that is empty for the session's state means AUTH is not offered then.
  bool tls_offered = false;    // STARTTLS announced (a certificate is loaded)
  bool tls_required = false;   // smtpd_tls_security_level = encrypt
  bool tls_wrapped = false;    // smtpd_tls_wrappermode: TLS from the first byte
  std::vector<std::string> auth_mechanisms_plain;  // AUTH before TLS
  std::vector<std::string> auth_mechanisms_tls;    // AUTH under TLS
  bool relay_authenticated = true;  // smtpd_relay_restrictions has permit_sasl_authenticated
};

class Session {
 public:
  using SendFn = std::function<void(std::string_view)>;

  // `sink` (and `security`, if any) must outlive the session. `send`
  // receives reply bytes in batches. Without `security` neither STARTTLS nor
  // AUTH is offered.
  Session(Settings settings, Sink& sink, SendFn send, Security* security = nullptr,
          Policy* policy = nullptr);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends the 220 greeting. Call once, before feed().
  void start();
  // Takes the next bytes from the client, acts on every complete command
  // and flushes the replies due. Bytes after QUIT or a 421 are ignored.
  void feed(std::string_view bytes);
  // True once the session has ended (QUIT answered, or 421 after too many
  // errors): the owner flushes the output and closes.
  bool finished() const { return mode_ == Mode::closed; }

  std::size_t errors() const { return errors_; }
  std::size_t messages() const { return messages_; }

  // STARTTLS was answered: the owner starts the handshake; input is ignored.
  bool tls_pending() const { return mode_ == Mode::tls; }
  // The handshake is done: the session starts afresh (RFC 3207 4.2: no
  // HELO, no transaction, no authentication), the client sends EHLO again.
  void tls_started();
  // A password check, policy check, ETRN flush or message store is out:
  // the owner should stop reading (and stop the client's timers) until it
  // answers.
  bool waiting() const { return mode_ == Mode::waiting || mode_ == Mode::committing; }
  // Message content is being received: from DATA's 354 to the final dot,
  // from the first BDAT to the end of BDAT LAST (smtpd_data_timeout).
  bool receiving() const {
    return mode_ == Mode::data || mode_ == Mode::bdat || (mode_ == Mode::command && bdat_used_);
  }
  // Counts complete command lines, SASL responses and content reads: the
  // owner restarts the client's smtpd_timeout when it moves.
  std::uint64_t progress() const { return progress_; }
  // Where the session is, for "timeout after DATA (1234 bytes) from ..."
  // (Postfix's words): the last command's verb, "CONNECT" before the first,
  // "END-OF-MESSAGE" after a message was stored.
  std::string state_name() const;
  // The owner's time limit ran out: sends 421 4.4.2 "<myhostname> Error:
  // timeout exceeded" (Postfix's words), drops the transaction (nothing of
  // it is stored) and ends the session. Nothing happens after the end.
  void timeout();
  // The answer to Security::check_password(): replies 235, 535 or 454 and
  // goes on with the input that waited.
  void auth_checked(const AuthOutcome& outcome);
  // The answer to Policy::check() when it did not answer at once: replies
  // (or goes on with the command) and then with the input that waited.
  void policy_checked(const Verdict& v);
  // The answer to Policy::flush() (ETRN): qmgr was reached or not.
  void etrn_done(bool reached);
  const std::string& sasl_login() const { return sasl_login_; }    // "" = none
  const std::string& sasl_method() const { return sasl_method_; }  // with sasl_login

  enum class Phase { connected, helo, mail, rcpt };
  // auth: reading SASL responses; waiting: a password check is out;
  // committing: Message::commit() has not answered yet; tls: STARTTLS
  // answered, the handshake is due.
  enum class Mode { command, data, bdat, auth, waiting, committing, tls, closed };

 private:
  using Handler = void (Session::*)(std::string_view arg);
  struct Verb {
    std::string_view name;
    Handler run;
    Phase needs;
    unsigned flags;
  };
  static const Verb kVerbs[];

  // Input.
  void process();
  bool command_step();
  bool data_step();
  bool bdat_step();
  void dispatch(std::string_view line);
  bool phase_ok(Phase needs) const;

  // Verbs.
  void helo(std::string_view arg);
  void ehlo(std::string_view arg);
  void mail(std::string_view arg);
  void rcpt(std::string_view arg);
  void data(std::string_view arg);
  void bdat(std::string_view arg);
  void rset(std::string_view arg);
  void noop(std::string_view arg);
  void quit(std::string_view arg);
  void vrfy(std::string_view arg);
  void expn(std::string_view arg);
  void help(std::string_view arg);
  void starttls(std::string_view arg);  // smtpd/tls_verb.cc
  void auth(std::string_view arg);      // smtpd/auth_verb.cc
  void etrn(std::string_view arg);

  // Policy checks (smtpd/policy.h). Pending: what waits for the verdict.
  enum class Pending { none, connect, helo, ehlo, mail, rcpt, etrn, flush };
  void check(CheckPoint point, Pending what);
  void checked(Pending what, const Verdict& v);
  CheckRequest request(CheckPoint point) const;
  void greet();
  void helo_accepted(bool ehlo);

  // AUTH exchange (smtpd/auth_verb.cc).
  const std::vector<std::string>& auth_mechanisms() const;
  void auth_response(std::string_view line);
  void auth_step(const auth::Step& step);
  void end_exchange();
  void update_protocol();

  // Message content.
  void content(std::string_view bytes);
  void end_of_message();
  void committed(Reply r);
  void finish_commit();
  void reset_transaction();
  bool relay_allowed(const std::string& domain) const;

  // Output.
  void reply(int code, std::string_view enhanced, std::string_view text);
  void reply(const Reply& r) { reply(r.code, r.enhanced, r.text); }
  // A refusal that does not count towards the error limits and is not
  // logged (RCPT beyond smtpd_recipient_limit, within
  // smtpd_recipient_overshoot_limit).
  void reply_uncounted(int code, std::string_view enhanced, std::string_view text);
  void flush();

  Settings s_;
  Sink& sink_;
  SendFn send_;
  Security* security_;
  Phase phase_ = Phase::connected;
  Mode mode_ = Mode::command;
  std::string in_;
  std::size_t pos_ = 0;  // in_[0, pos_) is consumed (see process())
  std::string_view pending() const { return std::string_view(in_).substr(pos_); }
  std::string out_;
  bool discarding_ = false;  // inside an over-long command line
  std::size_t errors_ = 0;
  std::size_t messages_ = 0;
  std::uint64_t progress_ = 0;
  std::string last_verb_ = "CONNECT";  // for state_name()

  // Transaction.
  queue::Envelope env_;
  std::uint64_t declared_size_ = 0;
  std::unique_ptr<Message> msg_;
  std::uint64_t size_ = 0;       // content bytes of this message so far
  bool too_big_ = false;
  bool bare_lf_ = false;
  bool line_start_ = true;       // DATA: the next byte starts a line
  bool crlf_ = true;             // DATA: the last line ended in CR LF
  char prev_ = '\n';             // DATA: the last content byte seen
  bool bdat_used_ = false;       // BDAT seen in this transaction: DATA refused
  std::uint64_t bdat_left_ = 0;  // bytes of the current chunk still to read
  bool bdat_last_ = false;
  bool bdat_discard_ = false;    // the chunk is read only to be dropped
  Reply bdat_error_;             // the reply for a discarded chunk
  std::size_t overshoot_ = 0;    // RCPTs refused over smtpd_recipient_limit
  // Message::commit(): its answer, and whether commit() is still on the
  // stack (an answer given inside it is acted on once it returns).
  std::optional<Reply> commit_reply_;
  bool in_commit_ = false;

  // STARTTLS and AUTH.
  bool tls_ = false;             // TLS is active
  bool ehlo_ = false;            // the greeting was EHLO (ESMTP protocol names)
  std::optional<auth::Exchange> exchange_;  // an AUTH exchange in progress
  std::string sasl_method_;      // of the AUTH being checked or done
  std::string sasl_login_;       // after a successful AUTH

  // Policy.
  Policy* policy_;
  Pending pending_ = Pending::none;
  std::string pending_helo_;     // HELO/EHLO argument being checked
  queue::Recipient pending_rcpt_;  // RCPT being checked
  std::string etrn_domain_;
  bool access_denied_ = false;   // smtpd_client_restrictions refused at connect
};

// "code enhanced text\r\n" (enhanced left out when empty).
std::string format_reply(int code, std::string_view enhanced, std::string_view text);

}  // namespace posthorn::smtpd

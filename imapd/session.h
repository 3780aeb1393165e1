// imapd/session.h - the IMAP server protocol engine: IMAP4rev1 (RFC 3501),
// and IMAP4rev2 (RFC 9051) once a client enables it, with LITERAL+ (RFC
// 7888), SASL-IR (RFC 4959) and SASL PLAIN and LOGIN, IDLE (RFC 2177),
// UIDPLUS (RFC 4315), MOVE (RFC 6851), NAMESPACE (RFC 2342), ID (RFC 2971),
// SPECIAL-USE (RFC 6154), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// ESEARCH (RFC 4731), BINARY (RFC 3516), STATUS=SIZE (RFC 8438),
// UTF8=ACCEPT (RFC 6855), ENABLE (RFC 5161), UNSELECT (RFC 3691), CHILDREN
// (RFC 3348), APPENDLIMIT (RFC 7889) and the response codes of RFC 5530.
// IMAP4rev2 here means: no \Recent (no RECENT responses), SEARCH answered
// with ESEARCH, SELECT reporting LIST and [CLOSED], mailbox names in UTF-8.
//
// Purpose:    one session's protocol state, with no I/O of its own: the owner
//             feeds it what the client sent and supplies a Host, through
//             which the session answers, asks for password checks (answered
//             later), opens the user's mail store after a login, starts TLS
//             and watches the selected folder during IDLE. Tests drive it
//             with a fake Host and a store in a temporary directory.
// Guarantees: - responses do not depend on how the input was split among
//               feed() calls; feed() consumes only what the session may act
//               on now (nothing while a password check, a TLS handshake or a
//               suspended FETCH is pending), so unread input stays with the
//               owner, under its own flow control;
//             - every input bound of imapd/parser.h holds; before login a
//               literal may be at most Settings::limits.max_line octets;
//             - changes made by other sessions are reported (EXISTS, RECENT,
//               EXPUNGE, FETCH FLAGS) before the tagged response of each
//               command in the Selected state and during IDLE, and EXPUNGE
//               never while answering FETCH, STORE or SEARCH (RFC 3501
//               7.4.1): those messages stay numbered until a command that
//               allows it, and FETCH then reports [EXPUNGEISSUED];
//             - a long FETCH is answered in pieces: between two messages it
//               stops while the Host says its output is congested, and goes
//               on from output_drained();
//             - passwords are handed to the Host and never kept or logged.
// Refusals:   LOGIN and AUTHENTICATE before TLS unless
//             Settings::plaintext_auth (LOGINDISABLED, NO [PRIVACYREQUIRED]);
//             after auth_failure_limit failed logins or kMaxBadCommands
//             protocol errors the session ends with BYE. Mailbox names that
//             are not valid modified UTF-7 or that lib/mailstore refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "imapd/mailbox_view.h"
#include "imapd/parser.h"
#include "imapd/special_use.h"
#include "lib/auth/sasl.h"
#include "lib/base/result.h"
#include "lib/mailstore/store.h"

namespace posthorn::imapd {

struct Settings {
  std::string banner = "Posthorn ready";  // imap_banner
  bool plaintext_auth = false;            // imap_plaintext_auth
  bool tls_available = false;             // a certificate is configured: offer STARTTLS
  bool tls_active = false;                // implicit TLS (port 993), or after STARTTLS
  std::size_t auth_failure_limit = 3;     // imap_auth_failure_limit
  Limits limits;                          // imap_max_line_length, imap_max_literal, imap_max_nesting
  std::string client_addr;                // for the auth service and the log
  std::vector<SpecialFolder> special_use;  // imap_special_use_folders
};

// Protocol errors (BAD) before the session gives up on a client.
inline constexpr std::size_t kMaxBadCommands = 20;

struct AuthAnswer {
  enum class Kind { ok, failed, temporary } kind = Kind::failed;
  std::string login;  // when ok: the canonical login
};

class Host {
 public:
  virtual ~Host() = default;
  virtual void send(std::string_view bytes) = 0;
  // True while the output waits above its high watermark.
  virtual bool congested() const { return false; }
  // Asks whether `password` is right for `login`. `done` runs exactly once,
  // now or later; after it the session wants input again (resume()).
  virtual void check_password(const std::string& login, const std::string& password,
                              std::function<void(AuthAnswer)> done) = 0;
  // The mail store of a logged-in user (the identity switch happens here).
  // Errors make the login fail with NO [UNAVAILABLE]; the detail is logged.
  virtual Result<mailstore::Store> open_store(const std::string& login) = 0;
  // Starts TLS once the bytes sent so far are out; the owner discards
  // unread plaintext input (RFC 3501 6.2.1) and calls tls_ready() after
  // the handshake.
  virtual void start_tls() = 0;
  // IDLE: report changes of this Maildir through Session::changed().
  virtual void watch(const std::filesystem::path& folder_dir) = 0;
  virtual void unwatch() = 0;
  // The session can take input again (a wait has ended).
  virtual void resume() = 0;
  // Log lines (the owner adds the client).
  virtual void log(std::string_view line) { (void)line; }
};

class Session {
 public:
  enum class State { not_authenticated, authenticated, selected, logout };

  // `host` must outlive the session.
  Session(Settings settings, Host& host);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends the greeting. Call once, before feed().
  void start();
  // Acts on the complete commands in `in`; returns how many octets it used.
  std::size_t feed(std::string_view in);
  // The TLS handshake after STARTTLS has completed.
  void tls_ready();
  // The watched folder changed (IDLE).
  void changed();
  // The output has drained below its low watermark.
  void output_drained();

  // The session has ended (LOGOUT, or BYE): flush and close.
  bool finished() const { return state_ == State::logout; }
  // Waiting for the auth service, a TLS handshake or the output: feed() would
  // consume nothing.
  bool waiting() const;
  State state() const { return state_; }
  const std::string& user() const { return user_; }
  std::size_t bad_commands() const { return bad_; }

  // STATUS items (RFC 3501 6.3.10), for STATUS and LIST-STATUS: the items
  // of a list, or nullopt when it is not one or holds an unknown item.
  enum class StatusItem { messages, recent, uidnext, uidvalidity, unseen, size, deleted };
  static std::optional<std::vector<StatusItem>> status_items(const Value& list);

 private:
  using Handler = void (Session::*)(Command&);
  struct Verb {
    std::string_view name;
    Handler run;
    unsigned states;  // bits of State in which the command is valid
    unsigned flags;
  };
  static const Verb kVerbs[];
  enum class Mode { command, sasl, idle, tls };

  // Input.
  bool step(std::string_view in, std::size_t& used);
  bool command_step(std::string_view in, std::size_t& used);
  bool raw_line(std::string_view in, std::size_t& used, std::string& line);
  void dispatch(Command& c);
  const Verb* find_verb(std::string_view name, bool uid) const;

  // Output.
  void untagged(std::string_view line);
  void send_raw(std::string_view bytes);
  void flush();
  // Reports mailbox changes (when selected), then the tagged response.
  void finish(const std::string& tag, std::string_view status, std::string_view text);
  void bad(const std::string& tag, std::string_view text);
  void report_changes(bool allow_expunge);
  void bye(std::string_view text);
  std::string capabilities() const;

  // Any state (session.cc).
  void cmd_capability(Command& c);
  void cmd_noop(Command& c);
  void cmd_logout(Command& c);
  void cmd_id(Command& c);
  void cmd_enable(Command& c);
  void cmd_namespace(Command& c);
  // Not authenticated (cmd_auth.cc).
  void cmd_starttls(Command& c);
  void cmd_login(Command& c);
  void cmd_authenticate(Command& c);
  void sasl_response(std::string_view line);
  void sasl_step(auth::Step step);
  void check_login(std::string login, std::string password);
  void login_answered(const AuthAnswer& a);
  bool plaintext_refused(const std::string& tag);
  // Mailboxes (cmd_mailbox.cc, cmd_list.cc).
  void cmd_create(Command& c);
  void cmd_delete(Command& c);
  void cmd_rename(Command& c);
  void cmd_subscribe(Command& c);
  void cmd_unsubscribe(Command& c);
  void cmd_list(Command& c);
  void cmd_lsub(Command& c);
  void cmd_status(Command& c);
  Result<std::string> status_line(const std::string& name, const std::vector<StatusItem>& items);
  void cmd_append(Command& c);
  // Selecting (cmd_select.cc).
  void cmd_select(Command& c);
  void cmd_examine(Command& c);
  void select(Command& c, bool read_only);
  void cmd_check(Command& c);
  void cmd_close(Command& c);
  void cmd_unselect(Command& c);
  void cmd_expunge(Command& c);
  // Messages (cmd_fetch.cc, cmd_store.cc, cmd_copy.cc, cmd_search.cc).
  void cmd_fetch(Command& c);
  bool run_fetch();
  void cmd_store(Command& c);
  void cmd_copy(Command& c);
  void cmd_move(Command& c);
  void copy_or_move(Command& c, bool move);
  void cmd_search(Command& c);
  void cmd_idle(Command& c);
  void idle_line(std::string_view line);

  // Helpers for commands (session.cc).
  // The messages of a sequence set argument, as sequence numbers ascending.
  // Sends BAD and returns nullopt on error.
  std::optional<std::vector<std::uint32_t>> message_set(const std::string& tag, const Value& v);
  bool mailbox_arg(const std::string& tag, const Value& v, std::string& name, bool new_name);
  // A store name as the client reads it: UTF-8 once enabled (RFC 6855, RFC 9051).
  std::string mailbox_out(std::string_view store_name) const;
  void store_error(const std::string& tag, const Error& e, std::string_view what);
  void login_done(const std::string& login);

  Settings s_;
  Host& host_;
  State state_ = State::not_authenticated;
  Mode mode_ = Mode::command;
  CommandReader reader_;
  std::string out_;
  std::size_t bad_ = 0;
  std::size_t auth_failures_ = 0;
  std::string user_;
  std::optional<mailstore::Store> store_;
  std::unique_ptr<MailboxView> view_;

  // The command in progress (when it spans more than one feed()).
  std::string tag_;
  bool uid_ = false;            // the command is a UID command
  bool allow_expunge_ = true;   // EXPUNGE responses allowed at its end
  bool waiting_auth_ = false;
  bool rev2_ = false;  // ENABLE IMAP4rev2
  bool utf8_ = false;  // ENABLE UTF8=ACCEPT (or IMAP4rev2): mailbox names in UTF-8
  std::unique_ptr<auth::Exchange> sasl_;  // an AUTHENTICATE in progress
  struct FetchJob;
  std::unique_ptr<FetchJob> fetch_;
};

}  // namespace posthorn::imapd

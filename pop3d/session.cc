// pop3d/session.cc - see session.h.
#include "pop3d/session.h"

#include <cstring>

#include "lib/base/strings.h"
#include "pop3d/transfer.h"

namespace posthorn::pop3d {
namespace {

constexpr unsigned kAuth = 1u << static_cast<unsigned>(Session::State::authorization);
constexpr unsigned kTrans = 1u << static_cast<unsigned>(Session::State::transaction);

// RFC 2595 section 4 and Dovecot's wording, which clients show to users.
constexpr std::string_view kPlaintextRefused =
    "[AUTH] Plaintext authentication disallowed on non-secure connections";
constexpr std::string_view kAuthFailed = "[AUTH] Authentication failed";

// A message number or line count: decimal digits only (RFC 1939 section 3).
std::optional<std::uint64_t> number(std::string_view s) {
  unsigned long long n = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  if (!parse_uint(s, n)) return std::nullopt;
  return n;
}

// Splits "a b" at the first run of spaces.
std::pair<std::string_view, std::string_view> first_word(std::string_view s) {
  std::size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return {s, {}};
  std::string_view rest = s.substr(sp);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return {s.substr(0, sp), rest};
}

}  // namespace

const Session::Verb Session::kVerbs[] = {
    {"USER", &Session::user, kAuth},
    {"PASS", &Session::pass, kAuth},
    {"AUTH", &Session::auth, kAuth},
    {"STLS", &Session::stls, kAuth},
    {"CAPA", &Session::capa, kAuth | kTrans},
    {"QUIT", &Session::quit, kAuth | kTrans},
    {"STAT", &Session::stat, kTrans},
    {"LIST", &Session::list, kTrans},
    {"RETR", &Session::retr, kTrans},
    {"TOP", &Session::top, kTrans},
    {"DELE", &Session::dele, kTrans},
    {"NOOP", &Session::noop, kTrans},
    {"RSET", &Session::rset, kTrans},
    {"UIDL", &Session::uidl, kTrans},
};

Session::Session(Settings settings, Host& host)
    : s_(std::move(settings)), host_(host), tls_active_(s_.tls_active) {}

void Session::start() { ok(s_.banner); }

void Session::ok(std::string_view text) {
  host_.send(text.empty() ? std::string("+OK\r\n") : cat("+OK ", text, "\r\n"));
}

void Session::err(std::string_view text) { host_.send(cat("-ERR ", text, "\r\n")); }

std::size_t Session::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (!finished() && !waiting() && !host_.congested()) {
    std::string_view rest = bytes.substr(used);
    const void* lf = std::memchr(rest.data(), '\n', rest.size());
    if (!lf) {
      if (rest.size() >= s_.max_line) {
        err("Line too long");
        close();
        return bytes.size();
      }
      break;
    }
    std::size_t len = static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data());
    used += len + 1;
    if (len + 1 > s_.max_line) {
      err("Line too long");
      close();
      return bytes.size();
    }
    std::string_view line = rest.substr(0, len);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (sasl_) sasl_response(line);
    else dispatch(line);
  }
  if (finished()) return bytes.size();  // nothing after QUIT or the end is read
  return used;
}

void Session::dispatch(std::string_view line) {
  auto [word, arg] = first_word(line);
  for (const Verb& v : kVerbs) {
    if (!iequals(word, v.name)) continue;
    if (!(v.states & (1u << static_cast<unsigned>(state_))))
      return bad_command(state_ == State::authorization ? "Not logged in"
                                                        : "Command not valid in this state");
    // Trailing blanks are a sloppy client's, except in a password.
    return (this->*v.run)(v.run == &Session::pass ? arg : trim(arg));
  }
  bad_command("Unknown command");
}

// One reply per command, also for the last one before the end.
void Session::bad_command(std::string_view text) {
  if (++bad_commands_ < s_.max_bad_commands) return err(text);
  err(cat(text, "; too many bad commands, closing"));
  close();
}

// --- AUTHORIZATION ----------------------------------------------------------

void Session::user(std::string_view arg) {
  user_.reset();
  if (!login_allowed()) return err(kPlaintextRefused);
  if (arg.empty()) return bad_command("Missing user name");
  user_ = std::string(arg);
  ok("");
}

// RFC 1939 section 7: the argument is the rest of the line, spaces included.
void Session::pass(std::string_view arg) {
  if (!login_allowed()) return err(kPlaintextRefused);
  if (!user_) return bad_command("USER first");
  std::string login = std::move(*user_);
  user_.reset();
  check(std::move(login), std::string(arg));
}

// RFC 5034: AUTH mechanism [initial-response]; "AUTH" alone lists the
// mechanisms (a common extension that Outlook and others send).
void Session::auth(std::string_view arg) {
  user_.reset();
  if (arg.empty()) {
    if (!login_allowed()) return host_.send("+OK\r\n.\r\n");
    return host_.send("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  }
  auto [name, initial] = first_word(arg);
  auto mech = auth::parse_mechanism(name);
  if (!mech) return bad_command("Unsupported authentication mechanism");
  if (!login_allowed()) return err(kPlaintextRefused);
  sasl_.emplace(*mech);
  take_step(sasl_->start(initial.empty() ? std::nullopt : std::optional<std::string_view>(initial)));
}

void Session::sasl_response(std::string_view line) { take_step(sasl_->respond(line)); }

void Session::take_step(const auth::Step& step) {
  switch (step.kind) {
    case auth::Step::challenge:
      return host_.send(cat("+ ", step.text, "\r\n"));
    case auth::Step::credentials:
      sasl_.reset();
      return check(step.creds.login, step.creds.password);
    case auth::Step::cancelled:
      sasl_.reset();
      return err("Authentication cancelled");
    case auth::Step::bad_base64:
      sasl_.reset();
      return bad_command("Invalid base64 data");
    case auth::Step::malformed:
      sasl_.reset();
      return login_failed(kAuthFailed);
  }
}

void Session::check(std::string login, std::string password) {
  checking_ = true;
  host_.check_password(login, password);
}

void Session::password_checked(const PasswordCheck& check) {
  if (!checking_) return;
  checking_ = false;
  switch (check.verdict) {
    case PasswordCheck::ok: return open_mailbox(check.login);
    case PasswordCheck::wrong: return login_failed(kAuthFailed);
    case PasswordCheck::temporary:
      return err("[SYS/TEMP] Authentication service unavailable; try again later");
  }
}

void Session::login_failed(std::string_view text) {
  if (++auth_failures_ < s_.auth_failure_limit) return err(text);
  err(cat(text, "; too many failures, closing"));
  close();
}

void Session::open_mailbox(const std::string& login) {
  auto box = host_.open_mailbox(login);
  if (!box) {
    switch (box.error().code) {
      case Errc::busy:
        err("[IN-USE] Mailbox is locked by another POP3 session");
        break;
      case Errc::not_found:
      case Errc::permission:
      case Errc::invalid:
      case Errc::unsupported:
        err("[SYS/PERM] Mailbox is not available");
        break;
      default:
        err("[SYS/TEMP] Mailbox cannot be opened now; try again later");
        break;
    }
    return close();
  }
  mailbox_ = std::move(*box);
  login_ = login;
  deleted_.assign(mailbox_->messages().size(), false);
  state_ = State::transaction;
  ok("Logged in");
}

// RFC 2595 section 4: only in AUTHORIZATION, and only once.
void Session::stls(std::string_view arg) {
  if (!arg.empty()) return bad_command("STLS takes no argument");
  if (tls_active_) return err("TLS is already active");
  if (!s_.tls_offered) return err("TLS is not available");
  ok("Begin TLS negotiation");
  user_.reset();
  tls_pending_ = true;
  host_.start_tls();
}

void Session::tls_started() {
  if (!tls_pending_) return;
  tls_pending_ = false;
  tls_active_ = true;
}

// RFC 2449 section 5; what depends on the state and on TLS is left out
// when it cannot be used now.
void Session::capa(std::string_view) {
  out_ = "+OK Capability list follows\r\n";
  out_ += "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  if (state_ == State::authorization) {
    if (login_allowed()) out_ += "USER\r\nSASL PLAIN LOGIN\r\n";
    if (s_.tls_offered && !tls_active_) out_ += "STLS\r\n";
  }
  out_ += "IMPLEMENTATION Posthorn\r\n.\r\n";
  host_.send(out_);
  out_.clear();
}

void Session::quit(std::string_view) {
  if (state_ == State::transaction) {
    // The UPDATE state (RFC 1939 section 6).
    std::vector<std::size_t> marked;
    for (std::size_t i = 0; i < deleted_.size(); ++i)
      if (deleted_[i]) marked.push_back(i);
    if (!marked.empty()) {
      auto r = mailbox_->remove(marked);
      if (!r) {
        err("[SYS/TEMP] Some deleted messages were not removed");
        return close();
      }
      removed_ = marked.size();
    }
  }
  ok("Logging out");
  close();
}

// --- TRANSACTION ------------------------------------------------------------

std::optional<std::size_t> Session::message_arg(std::string_view arg) {
  auto n = number(arg);
  if (!n) {
    bad_command("Invalid message number");
    return std::nullopt;
  }
  if (*n == 0 || *n > deleted_.size()) {
    err("No such message");
    return std::nullopt;
  }
  std::size_t i = static_cast<std::size_t>(*n - 1);
  if (deleted_[i]) {
    err("Message is deleted");
    return std::nullopt;
  }
  return i;
}

void Session::stat(std::string_view) {
  std::size_t count = 0;
  std::uint64_t octets = 0;
  const auto& msgs = mailbox_->messages();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (deleted_[i]) continue;
    ++count;
    octets += msgs[i].octets;
  }
  ok(cat(count, " ", octets));
}

void Session::list(std::string_view arg) {
  const auto& msgs = mailbox_->messages();
  if (!arg.empty()) {
    auto i = message_arg(arg);
    if (i) ok(cat(*i + 1, " ", msgs[*i].octets));
    return;
  }
  out_ = "+OK scan listing follows\r\n";
  for (std::size_t i = 0; i < msgs.size(); ++i)
    if (!deleted_[i]) out_ += cat(i + 1, " ", msgs[i].octets, "\r\n");
  out_ += ".\r\n";
  host_.send(out_);
  out_.clear();
}

void Session::uidl(std::string_view arg) {
  const auto& msgs = mailbox_->messages();
  if (!arg.empty()) {
    auto i = message_arg(arg);
    if (i) ok(cat(*i + 1, " ", msgs[*i].uidl));
    return;
  }
  out_ = "+OK unique-id listing follows\r\n";
  for (std::size_t i = 0; i < msgs.size(); ++i)
    if (!deleted_[i]) out_ += cat(i + 1, " ", msgs[i].uidl, "\r\n");
  out_ += ".\r\n";
  host_.send(out_);
  out_.clear();
}

void Session::retr(std::string_view arg) {
  auto i = message_arg(arg);
  if (i) send_message(*i, std::nullopt);
}

void Session::top(std::string_view arg) {
  auto [msg, lines] = first_word(arg);
  auto n = number(lines);
  if (!n || msg.empty()) return bad_command("Usage: TOP message lines");
  auto i = message_arg(msg);
  if (i) send_message(*i, *n);
}

void Session::send_message(std::size_t index, std::optional<std::uint64_t> body_lines) {
  auto data = mailbox_->read(index);
  if (!data) {
    if (data.error().code == Errc::not_found) return err("Message is no longer available");
    return err("[SYS/TEMP] Message cannot be read now");
  }
  out_ = body_lines ? std::string("+OK\r\n")
                    : cat("+OK ", mailbox_->messages()[index].octets, " octets\r\n");
  append_transfer(out_, *data, body_lines);
  host_.send(out_);
  out_.clear();
  out_.shrink_to_fit();  // a large message is not kept for the session's life
  if (!body_lines) ++retrieved_;
}

void Session::dele(std::string_view arg) {
  auto i = message_arg(arg);
  if (!i) return;
  deleted_[*i] = true;
  ok("Marked to be deleted");
}

void Session::noop(std::string_view) { ok(""); }

void Session::rset(std::string_view) {
  deleted_.assign(deleted_.size(), false);
  std::size_t n = deleted_.size();
  std::uint64_t octets = 0;
  for (const auto& m : mailbox_->messages()) octets += m.octets;
  ok(cat(n, " messages (", octets, " octets)"));
}

}  // namespace posthorn::pop3d

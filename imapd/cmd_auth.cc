// imapd/cmd_auth.cc - STARTTLS, LOGIN and AUTHENTICATE (RFC 3501 6.2, RFC
// 4959 SASL-IR) with the SASL mechanisms of lib/auth/sasl.h (PLAIN, LOGIN).
//
// Passwords go to the Host's check_password() and nowhere else; the session
// waits (consumes no input) until the answer comes back. A SASL exchange
// that the client cancels ("*") or garbles (not strict base64) is BAD, as
// RFC 3501 6.2.2 says; malformed credentials count as a failed login.
#include <algorithm>

#include "imapd/session.h"
#include "lib/auth/protocol.h"
#include "lib/auth/sasl.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {

bool Session::plaintext_refused(const std::string& tag) {
  if (s_.tls_active || s_.plaintext_auth) return false;
  finish(tag, "NO", "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections");
  return true;
}

void Session::cmd_starttls(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "STARTTLS takes no arguments");
  if (s_.tls_active) return bad(c.tag, "TLS is already active");
  if (!s_.tls_available) return finish(c.tag, "NO", "[UNAVAILABLE] TLS is not configured");
  out_ += cat(c.tag, " OK Begin TLS negotiation now\r\n");
  flush();
  mode_ = Mode::tls;
  reader_ = CommandReader(reader_.limits());  // nothing sent before the handshake counts
  host_.start_tls();
}

void Session::tls_ready() {
  if (mode_ != Mode::tls) return;
  s_.tls_active = true;
  mode_ = Mode::command;
  host_.resume();
}

void Session::cmd_login(Command& c) {
  if (c.args.size() != 2 || !c.args[0].is_astring() || !c.args[1].is_astring())
    return bad(c.tag, "LOGIN needs a user name and a password");
  if (plaintext_refused(c.tag)) return;
  const std::string& login = c.args[0].text;
  bool shape_ok = !login.empty() && login.size() <= auth::kMaxLogin &&
                  c.args[1].text.size() <= auth::kMaxPassword &&
                  std::none_of(login.begin(), login.end(),
                               [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
  if (!shape_ok) return login_answered(AuthAnswer{});  // no table could hold it
  check_login(std::move(c.args[0].text), std::move(c.args[1].text));
}

void Session::cmd_authenticate(Command& c) {
  if (c.args.empty() || c.args.size() > 2 || !c.args[0].is_atom())
    return bad(c.tag, "AUTHENTICATE needs a mechanism");
  auto mech = auth::parse_mechanism(c.args[0].text);
  if (!mech) return finish(c.tag, "NO", "[CANNOT] Unsupported authentication mechanism");
  if (plaintext_refused(c.tag)) return;
  if (c.args.size() == 2 && !c.args[1].is_astring()) return bad(c.tag, "Invalid initial response");
  sasl_ = std::make_unique<auth::Exchange>(*mech);
  std::optional<std::string_view> initial;
  if (c.args.size() == 2) initial = c.args[1].text;
  sasl_step(sasl_->start(initial));
}

void Session::sasl_response(std::string_view line) { sasl_step(sasl_->respond(line)); }

void Session::sasl_step(auth::Step step) {
  mode_ = Mode::command;
  switch (step.kind) {
    case auth::Step::challenge:
      mode_ = Mode::sasl;
      out_ += cat("+ ", step.text, "\r\n");
      return;
    case auth::Step::credentials:
      sasl_.reset();
      return check_login(std::move(step.creds.login), std::move(step.creds.password));
    case auth::Step::cancelled:
      sasl_.reset();
      return bad(tag_, "Authentication cancelled");
    case auth::Step::bad_base64:
      sasl_.reset();
      return bad(tag_, "Invalid base64 data");
    case auth::Step::malformed:
      sasl_.reset();
      return login_answered(AuthAnswer{});
  }
}

void Session::check_login(std::string login, std::string password) {
  waiting_auth_ = true;
  host_.check_password(login, password, [this](AuthAnswer a) { login_answered(a); });
  std::fill(password.begin(), password.end(), '\0');
}

void Session::login_answered(const AuthAnswer& a) {
  const bool was_waiting = waiting_auth_;
  waiting_auth_ = false;
  switch (a.kind) {
    case AuthAnswer::Kind::ok:
      login_done(a.login);
      break;
    case AuthAnswer::Kind::temporary:
      finish(tag_, "NO", "[UNAVAILABLE] Temporary authentication failure");
      break;
    case AuthAnswer::Kind::failed:
      if (++auth_failures_ >= s_.auth_failure_limit) {
        out_ += cat(tag_, " NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
        bye("Too many invalid authentication attempts");
      } else {
        finish(tag_, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
      }
      break;
  }
  if (was_waiting) {
    flush();
    host_.resume();
  }
}

}  // namespace posthorn::imapd

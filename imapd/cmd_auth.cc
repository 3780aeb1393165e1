// imapd/cmd_auth.cc - STARTTLS, LOGIN and AUTHENTICATE PLAIN (RFC 3501 6.2,
// RFC 4616, RFC 4959 SASL-IR).
//
// Passwords go to the Host's check_password() and nowhere else; the session
// waits (consumes no input) until the answer comes back.
//
// XXX: the PLAIN message is decoded here; lib/auth/sasl.h (strict base64,
// the SASL exchanges smtpd and pop3d use) replaces this once it is on main.
#include <algorithm>

#include "imapd/session.h"
#include "lib/base/strings.h"
#include "lib/mime/transfer.h"

namespace posthorn::imapd {
namespace {

constexpr std::size_t kMaxLogin = 256;
constexpr std::size_t kMaxPassword = 1024;

// RFC 4648 base64 with padding and nothing else (no white space).
std::optional<std::string> strict_base64(std::string_view s) {
  if (s.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= s.size());
    if (!ok) return std::nullopt;
  }
  mime::Decoded d = mime::base64_decode(s);
  if (!d.clean) return std::nullopt;
  return std::move(d.data);
}

struct Plain {
  std::string login, password;
};

// RFC 4616: [authzid] NUL authcid NUL passwd. Acting for another user is
// not supported: an authzid must be empty or the authcid itself.
std::optional<Plain> parse_plain(std::string_view msg) {
  std::size_t a = msg.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  std::size_t b = msg.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  std::string_view authz = msg.substr(0, a), authc = msg.substr(a + 1, b - a - 1);
  std::string_view pass = msg.substr(b + 1);
  if (!authz.empty() && authz != authc) return std::nullopt;
  if (authc.empty() || authc.size() > kMaxLogin || pass.size() > kMaxPassword) return std::nullopt;
  if (pass.find('\0') != std::string_view::npos) return std::nullopt;
  for (unsigned char ch : authc)
    if (ch < 0x20 || ch == 0x7f) return std::nullopt;
  return Plain{std::string(authc), std::string(pass)};
}

}  // namespace

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
  if (c.args[0].text.empty() || c.args[0].text.size() > kMaxLogin ||
      c.args[1].text.size() > kMaxPassword) {
    login_answered(AuthAnswer{});
    return;
  }
  check_login(std::move(c.args[0].text), std::move(c.args[1].text));
}

void Session::cmd_authenticate(Command& c) {
  if (c.args.empty() || c.args.size() > 2 || !c.args[0].is_atom())
    return bad(c.tag, "AUTHENTICATE needs a mechanism");
  if (!iequals(c.args[0].text, "PLAIN"))
    return finish(c.tag, "NO", "[CANNOT] Unsupported authentication mechanism");
  if (plaintext_refused(c.tag)) return;
  if (c.args.size() == 2) {
    // SASL-IR: "=" is an empty initial response, which PLAIN cannot use.
    if (!c.args[1].is_astring()) return bad(c.tag, "Invalid initial response");
    if (c.args[1].text == "=") return login_answered(AuthAnswer{});
    return sasl_response(c.args[1].text);
  }
  mode_ = Mode::sasl;
  out_ += "+ \r\n";
}

void Session::sasl_response(std::string_view line) {
  mode_ = Mode::command;
  if (line == "*") return bad(tag_, "Authentication cancelled");
  auto decoded = strict_base64(line);
  if (!decoded) return bad(tag_, "Invalid base64 data");
  auto plain = parse_plain(*decoded);
  if (!plain) return login_answered(AuthAnswer{});
  check_login(std::move(plain->login), std::move(plain->password));
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

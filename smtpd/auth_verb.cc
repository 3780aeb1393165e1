// smtpd/auth_verb.cc - AUTH (RFC 4954), the session's part: which
// mechanisms are offered, the challenge/response exchange (lib/auth/sasl.h),
// and the reply once the owner has checked the password.
//
// States: command -> (AUTH) -> auth while challenges go out ("334 TEXT") ->
// waiting while the password check is out -> command. Replies:
//   235 2.7.0  Authentication successful
//   535 5.7.8  Error: authentication failed: ... (wrong password, malformed
//              credentials)
//   454 4.7.0  Temporary authentication failure (the auth service did not
//              answer: not running, timed out, could not read its tables)
//   501 5.0.0  Authentication aborted (the client sent "*")
//   501 5.5.2  Cannot decode response (not base64: RFC 4954 4)
//   501 5.5.4  Syntax: AUTH mechanism
//   503 5.5.1  not offered now / already authenticated / during a mail
//              transaction / before EHLO
//   504 5.5.4  Unrecognized authentication type
//   538 5.7.11 Encryption required for requested authentication mechanism
//              (offered under TLS only, and TLS is available)
//   530 5.7.0  Must issue a STARTTLS command first (TLS required; dispatch)
#include "lib/base/strings.h"
#include "smtpd/session.h"

namespace posthorn::smtpd {

namespace {
const std::vector<std::string> kNone;
}  // namespace

const std::vector<std::string>& Session::auth_mechanisms() const {
  if (!security_) return kNone;
  return tls_ ? s_.auth_mechanisms_tls : s_.auth_mechanisms_plain;
}

// RFC 3848: ESMTP, plus S under TLS and A once authenticated.
void Session::update_protocol() {
  if (!ehlo_) {
    env_.client.protocol = "SMTP";
    return;
  }
  env_.client.protocol = cat("ESMTP", tls_ ? "S" : "", sasl_login_.empty() ? "" : "A");
}

void Session::auth(std::string_view arg) {
  const std::vector<std::string> words = split_fields(arg, " ");
  const std::vector<std::string>& offered = auth_mechanisms();
  const bool tls_only = !tls_ && security_ && s_.tls_offered && !s_.auth_mechanisms_tls.empty();
  if (offered.empty() && !tls_only) return reply(503, "5.5.1", "Error: authentication not enabled");
  if (phase_ == Phase::connected) return reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (!sasl_login_.empty()) return reply(503, "5.5.1", "Error: already authenticated");
  if (phase_ == Phase::mail || phase_ == Phase::rcpt)
    return reply(503, "5.5.1", "Error: MAIL transaction in progress");
  if (words.empty() || words.size() > 2) return reply(501, "5.5.4", "Syntax: AUTH mechanism");
  auto mech = auth::parse_mechanism(words[0]);
  auto is_offered = [&](const std::vector<std::string>& list) {
    for (const std::string& m : list)
      if (iequals(m, words[0])) return true;
    return false;
  };
  if (!mech || !is_offered(offered)) {
    if (mech && tls_only && is_offered(s_.auth_mechanisms_tls))
      return reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
    return reply(504, "5.5.4", "Unrecognized authentication type");
  }
  exchange_.emplace(*mech);
  std::optional<std::string_view> initial;
  if (words.size() == 2) initial = words[1];
  auth_step(exchange_->start(initial));
}

void Session::auth_response(std::string_view line) { auth_step(exchange_->respond(line)); }

void Session::auth_step(const auth::Step& step) {
  switch (step.kind) {
    case auth::Step::challenge:
      mode_ = Mode::auth;
      out_ += cat("334 ", step.text, "\r\n");
      return flush();  // the client waits for it
    case auth::Step::credentials: {
      sasl_method_ = std::string(auth::mechanism_name(exchange_->mechanism()));
      AuthRequest req{sasl_method_, step.creds};
      exchange_.reset();
      mode_ = Mode::waiting;
      flush();
      return security_->check_password(req);
    }
    case auth::Step::cancelled:
      end_exchange();
      return reply(501, "5.0.0", "Authentication aborted");
    case auth::Step::bad_base64:
      end_exchange();
      return reply(501, "5.5.2", "Cannot decode response");
    case auth::Step::malformed:
      end_exchange();
      return reply(535, "5.7.8", "Error: authentication failed: malformed credentials");
  }
}

void Session::end_exchange() {
  if (mode_ != Mode::auth) return;
  exchange_.reset();
  mode_ = Mode::command;
}

void Session::auth_checked(const AuthOutcome& outcome) {
  if (mode_ != Mode::waiting) return;
  mode_ = Mode::command;
  switch (outcome.kind) {
    case AuthOutcome::ok:
      sasl_login_ = outcome.login;
      env_.client.sasl_user = sasl_login_;
      update_protocol();
      reply(235, "2.7.0", "Authentication successful");
      break;
    case AuthOutcome::temporary:
      sasl_method_.clear();
      reply(454, "4.7.0", "Temporary authentication failure");
      break;
    case AuthOutcome::failed:
      sasl_method_.clear();
      reply(535, "5.7.8", "Error: authentication failed: authentication failure");
      break;
  }
  process();
  flush();
}

}  // namespace posthorn::smtpd

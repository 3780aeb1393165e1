// smtpd/tls_verb.cc - STARTTLS (RFC 3207), the session's part: the reply,
// dropping what was pipelined after it, and starting afresh once the owner
// has finished the handshake.
//
// Replies (Postfix's texts): 220 2.0.0 Ready to start TLS; 501 5.5.4 with an
// argument; 554 5.5.1 when TLS is already active; 502 5.5.1 when STARTTLS is
// not offered; 503 5.5.1 inside a mail transaction (a transaction begun in
// plaintext must not continue under TLS as if it had been protected).
#include "lib/base/strings.h"
#include "smtpd/session.h"

namespace posthorn::smtpd {

void Session::starttls(std::string_view arg) {
  if (!trim(arg).empty()) return reply(501, "5.5.4", "Syntax: STARTTLS");
  if (tls_) return reply(554, "5.5.1", "Error: TLS already active");
  if (!security_ || !s_.tls_offered) return reply(502, "5.5.1", "Error: command not implemented");
  if (phase_ == Phase::mail || phase_ == Phase::rcpt)
    return reply(503, "5.5.1", "Error: MAIL transaction in progress");
  reply(220, "2.0.0", "Ready to start TLS");
  // RFC 3207 4.2: whatever the client sent after STARTTLS, before the
  // handshake, is dropped unread (the command-injection attack).
  pos_ = in_.size();
  mode_ = Mode::tls;
  flush();
  security_->start_tls();
}

void Session::tls_started() {
  if (mode_ != Mode::tls) return;
  mode_ = Mode::command;
  tls_ = true;
  // RFC 3207 4.2: discard any knowledge obtained from the client before TLS.
  reset_transaction();
  phase_ = Phase::connected;
  env_.client.helo.clear();
  ehlo_ = false;
  exchange_.reset();
  sasl_method_.clear();
  sasl_login_.clear();
  env_.client.sasl_user.clear();
  update_protocol();
}

}  // namespace posthorn::smtpd

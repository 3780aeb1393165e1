// smtp/session.cc - see session.h.
#include "smtp/session.h"

#include <algorithm>

#include "lib/address/path.h"
#include "lib/base/strings.h"
#include "lib/mime/transfer.h"

namespace posthorn::smtp {

namespace {

using Clock = std::chrono::steady_clock;

Millis left(Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<Millis>(deadline - Clock::now());
  return d.count() > 0 ? d : Millis(0);
}

RcptOutcome outcome_of(const Failure& f, bool retry_elsewhere) {
  return {f.permanent() ? Status::bounced : Status::deferred, f.dsn, f.text,
          retry_elsewhere && !f.permanent()};
}

std::string notify_param(std::uint8_t n) {
  if (n & queue::kNotifyNever) return "NEVER";
  std::vector<std::string> w;
  if (n & queue::kNotifySuccess) w.push_back("SUCCESS");
  if (n & queue::kNotifyFailure) w.push_back("FAILURE");
  if (n & queue::kNotifyDelay) w.push_back("DELAY");
  return join(w, ",");
}

}  // namespace

std::string_view status_name(Status s) {
  switch (s) {
    case Status::sent: return "sent";
    case Status::bounced: return "bounced";
    case Status::deferred: break;
  }
  return "deferred";
}

Session::Session(Transport& t, SessionSettings s, std::string peer)
    : t_(t), s_(std::move(s)), peer_(std::move(peer)) {}

Failure Session::broken(const Error& e, std::string_view while_) {
  usable_ = false;
  Failure f;
  f.dsn = "4.4.2";
  if (e.code == Errc::timeout) f.text = cat("conversation with ", peer_, " timed out while ", while_);
  else if (e.code == Errc::closed) f.text = cat("lost connection with ", peer_, " while ", while_);
  else f.text = cat("conversation with ", peer_, " failed while ", while_, ": ", e.detail);
  return f;
}

Failure Session::rejected(const Reply& r, std::string_view in_reply_to) {
  Failure f;
  f.code = r.code;
  f.dsn = r.dsn();
  if (r.klass() != 4 && r.klass() != 5) f.dsn = "5.5.0";  // a 1xx/2xx/3xx where it makes no sense
  f.text = cat("host ", peer_, " said: ", printable(r.text()), " (in reply to ", in_reply_to, ")");
  // 421: the server is closing the channel (RFC 5321 3.8).
  if (r.code == 421) usable_ = false;
  f.usable = usable_;
  return f;
}

std::optional<Failure> Session::send(std::string_view bytes, Millis limit, std::string_view while_) {
  if (!usable_) return broken(make_error(Errc::closed, "unusable"), while_);
  auto r = t_.send(bytes, limit);
  if (!r) return broken(r.error(), while_);
  return std::nullopt;
}

Result<Reply> Session::read(Millis limit, std::string_view while_, Failure& f) {
  const Clock::time_point deadline = Clock::now() + limit;
  for (;;) {
    auto got = parser_.next();
    if (!got) {
      f = broken(got.error(), while_);
      return got.error();
    }
    if (*got) return std::move(**got);
    if (!usable_) {
      f = broken(make_error(Errc::closed, "unusable"), while_);
      return make_error(Errc::closed, "unusable");
    }
    auto bytes = t_.receive(left(deadline));
    if (!bytes) {
      f = broken(bytes.error(), while_);
      return bytes.error();
    }
    parser_.feed(*bytes);
  }
}

std::optional<Failure> Session::open() {
  Failure f;
  auto g = read(s_.timeouts.helo, "receiving the initial server greeting", f);
  if (!g) return f;
  greeting_ = *g;
  if (g->code != 220) {
    Failure r = rejected(*g, "initial server greeting");
    r.text = cat("host ", peer_, " refused to talk to me: ", printable(g->text()));
    return r;
  }
  return helo();
}

std::optional<Failure> Session::helo() {
  Failure f;
  ext_ = {};
  const bool esmtp_greeting = greeting_.text().find("ESMTP") != std::string::npos;
  if (s_.always_send_ehlo || esmtp_greeting) {
    if (auto e = send(cat("EHLO ", s_.helo_name, "\r\n"), s_.timeouts.helo, "performing the EHLO handshake")) return e;
    auto r = read(s_.timeouts.helo, "performing the EHLO handshake", f);
    if (!r) return f;
    if (r->code == 250) {
      ext_ = parse_ehlo(*r);
      discard_keywords(ext_, s_.discard_ehlo_keywords);
      return std::nullopt;
    }
    if (r->code == 421) return rejected(*r, "EHLO command");
    // Any other refusal: the server may speak only RFC 821 (RFC 5321 3.2).
  }
  if (auto e = send(cat("HELO ", s_.helo_name, "\r\n"), s_.timeouts.helo, "performing the HELO handshake")) return e;
  auto r = read(s_.timeouts.helo, "performing the HELO handshake", f);
  if (!r) return f;
  if (r->code != 250) return rejected(*r, "HELO command");
  ext_.server_name = first_word(*r);
  return std::nullopt;
}

std::optional<Failure> Session::starttls(tls::SslPtr ssl, tls::SessionInfo& info) {
  Failure f;
  if (auto e = send("STARTTLS\r\n", s_.timeouts.helo, "sending STARTTLS")) return e;
  auto r = read(s_.timeouts.helo, "sending STARTTLS", f);
  if (!r) return f;
  if (r->code != 220) return rejected(*r, "STARTTLS command");
  // Bytes after the 220 would be a command injection (CVE-2011-0411 style).
  if (parser_.pending() > 0) {
    usable_ = false;
    return Failure{"4.7.5", cat("host ", peer_, " sent data after its STARTTLS reply"), false, 0};
  }
  TlsResult tr = t_.start_tls(std::move(ssl), s_.timeouts.starttls);
  info = tr.info;
  if (!tr.ok) {
    usable_ = false;
    Failure tf{"4.7.5", cat("TLS handshake with ", peer_, " failed: ", tr.ok.error().detail), false, 0};
    if (tr.ok.error().code == Errc::timeout)
      tf.text = cat("conversation with ", peer_, " timed out while performing the TLS handshake");
    return tf;
  }
  parser_.clear();
  return helo();
}

std::optional<Failure> Session::authenticate(const SaslCredentials& creds) {
  std::string mech;
  for (const std::string& want : creds.mechanisms)
    if (mech.empty() && std::find(ext_.auth.begin(), ext_.auth.end(), want) != ext_.auth.end()) mech = want;
  if (mech.empty())
    return Failure{"4.7.0", cat("SASL authentication failed: no mechanism available with ", peer_), true, 0};
  Failure f;
  const std::string_view stage = "performing SASL authentication";
  auto fail_auth = [&](const Reply& r) {
    Failure a = rejected(r, "AUTH command");
    a.text = cat("SASL authentication failed; server ", peer_, " said: ", printable(r.text()));
    // Like Postfix's smtp_sasl_auth_soft_bounce: a refused login defers,
    // since the password may be fixed before the next attempt.
    if (a.dsn[0] == '5') a.dsn = "4" + a.dsn.substr(1);
    return a;
  };
  if (mech == "PLAIN") {
    std::string token;
    token += '\0';
    token += creds.user;
    token += '\0';
    token += creds.password;
    if (auto e = send(cat("AUTH PLAIN ", mime::base64_encode(token, ""), "\r\n"), s_.timeouts.helo, stage)) return e;
    auto r = read(s_.timeouts.helo, stage, f);
    if (!r) return f;
    if (r->code != 235) return fail_auth(*r);
    return std::nullopt;
  }
  // LOGIN: "Username:" and "Password:" prompts (334), each answered in base64.
  if (auto e = send("AUTH LOGIN\r\n", s_.timeouts.helo, stage)) return e;
  for (const std::string* answer : {&creds.user, &creds.password}) {
    auto r = read(s_.timeouts.helo, stage, f);
    if (!r) return f;
    if (r->code != 334) return fail_auth(*r);
    if (auto e = send(cat(mime::base64_encode(*answer, ""), "\r\n"), s_.timeouts.helo, stage)) return e;
  }
  auto r = read(s_.timeouts.helo, stage, f);
  if (!r) return f;
  if (r->code != 235) return fail_auth(*r);
  return std::nullopt;
}

std::string Session::mail_command(const Transaction& tx) const {
  std::string c = cat("MAIL FROM:<", tx.sender, ">");
  if (ext_.size) c += cat(" SIZE=", tx.size);
  if (tx.eight_bit && ext_.eight_bit_mime) c += " BODY=8BITMIME";
  if (tx.smtputf8 && ext_.smtputf8) c += " SMTPUTF8";
  if (ext_.dsn) {
    if (tx.ret == queue::DsnRet::full) c += " RET=FULL";
    if (tx.ret == queue::DsnRet::hdrs) c += " RET=HDRS";
    if (!tx.envid.empty()) c += " ENVID=" + address::xtext_encode(tx.envid);
  }
  return c + "\r\n";
}

std::string Session::rcpt_command(const Transaction::Rcpt& r) const {
  std::string c = cat("RCPT TO:<", r.address, ">");
  if (ext_.dsn) {
    if (r.notify) c += " NOTIFY=" + notify_param(r.notify);
    std::size_t semi = r.orcpt.find(';');
    if (semi != std::string::npos && semi > 0)
      c += cat(" ORCPT=", r.orcpt.substr(0, semi), ";", address::xtext_encode(r.orcpt.substr(semi + 1)));
  }
  return c + "\r\n";
}

// Where each recipient of a transaction stands.
struct Session::Progress {
  explicit Progress(std::size_t n) : out(n), decided(n, false), accepted(n, false) {}
  std::vector<RcptOutcome> out;
  std::vector<bool> decided, accepted;
  // Every recipient not decided yet (only the accepted ones, when asked)
  // gets `f`.
  void settle(const Failure& f, bool retry_elsewhere, bool only_accepted) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (decided[i] || (only_accepted && !accepted[i])) continue;
      out[i] = outcome_of(f, retry_elsewhere);
      decided[i] = true;
    }
  }
};

std::vector<RcptOutcome> Session::transaction(const Transaction& tx) {
  Progress p(tx.rcpts.size());
  if (envelope(tx, p)) message(tx, p);
  return p.out;
}

bool Session::envelope(const Transaction& tx, Progress& p) {
  const bool pipe = ext_.pipelining;
  const std::string mail = mail_command(tx);
  Failure f;
  auto go_stale = [&](Failure why) {
    stale_ = true;
    usable_ = false;
    p.settle(why, true, false);
    return false;
  };
  if (tx.reset_first && !pipe && !reset()) return go_stale(broken(make_error(Errc::closed, "RSET"), "sending RSET"));
  if (pipe) {
    std::string batch = tx.reset_first ? "RSET\r\n" + mail : mail;
    for (const auto& r : tx.rcpts) batch += rcpt_command(r);
    if (!tx.bdat) batch += "DATA\r\n";
    if (auto e = send(batch, s_.timeouts.rcpt, "sending MAIL FROM")) {
      if (tx.reset_first) return go_stale(*e);  // the server had dropped the cached session
      return p.settle(*e, true, false), false;
    }
  } else if (auto e = send(mail, s_.timeouts.mail, "sending MAIL FROM")) {
    return p.settle(*e, true, false), false;
  }
  if (pipe && tx.reset_first) {
    auto rr = read(s_.timeouts.mail, "sending RSET", f);
    if (!rr) return go_stale(f);
    if (rr->code != 250) return go_stale(rejected(*rr, "RSET command"));
  }
  auto mr = read(s_.timeouts.mail, "sending MAIL FROM", f);
  if (!mr) return p.settle(f, true, false), false;
  if (mr->klass() != 2) {
    Failure rej = rejected(*mr, "MAIL FROM command");
    // The pipelined RCPT and DATA replies still come; read them so the
    // session stays in step for RSET and reuse.
    for (std::size_t k = 0; pipe && usable_ && k < tx.rcpts.size(); ++k) {
      Failure ignored;
      if (!read(s_.timeouts.rcpt, "sending RCPT TO", ignored)) break;
    }
    if (pipe && usable_ && !tx.bdat) end_refused_data();
    return p.settle(rej, true, false), false;
  }
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < tx.rcpts.size(); ++i) {
    if (!pipe) {
      if (auto e = send(rcpt_command(tx.rcpts[i]), s_.timeouts.rcpt, "sending RCPT TO"))
        return p.settle(*e, true, false), false;
    }
    auto rr = read(s_.timeouts.rcpt, "sending RCPT TO", f);
    if (!rr) return p.settle(f, true, false), false;
    if (rr->klass() == 2) {
      p.accepted[i] = true;
      ++accepted;
      continue;
    }
    Failure rej = rejected(*rr, "RCPT TO command");
    if (rr->code == 421) return p.settle(rej, true, false), false;
    p.out[i] = outcome_of(rej, false);
    p.decided[i] = true;
  }
  if (accepted == 0 && pipe && !tx.bdat) end_refused_data();
  return accepted > 0;
}

void Session::end_refused_data() {
  // Expected 503/554; a server that answers 354 anyway gets an empty
  // message ended at once, so that the session stays in step.
  Failure f;
  auto dr = read(s_.timeouts.data_init, "sending DATA command", f);
  if (dr && dr->code == 354 && !send(".\r\n", s_.timeouts.data_xfer, "sending end of data"))
    (void)read(s_.timeouts.data_done, "sending end of data", f);
}

void Session::message(const Transaction& tx, Progress& p) {
  Failure f;
  if (tx.bdat) {
    // One chunk, the last (RFC 3030 2): its size ends the message, and
    // its one reply is the verdict, as the reply to the end of data is.
    const std::string cmd = cat("BDAT ", tx.data.size(), " LAST\r\n");
    if (auto e = send(cat(cmd, tx.data), s_.timeouts.data_xfer, "sending message body"))
      return p.settle(*e, true, true);
    auto br = read(s_.timeouts.data_done, "sending end of data -- message may be sent more than once", f);
    if (!br) return p.settle(f, false, true);
    if (br->klass() != 2) return p.settle(rejected(*br, "BDAT command"), false, true);
    for (std::size_t i = 0; i < p.out.size(); ++i)
      if (p.accepted[i]) p.out[i] = {Status::sent, br->dsn(), printable(br->text()), false};
    return;
  }
  if (!ext_.pipelining) {
    if (auto e = send("DATA\r\n", s_.timeouts.data_init, "sending DATA command")) return p.settle(*e, true, true);
  }
  auto dr = read(s_.timeouts.data_init, "sending DATA command", f);
  if (!dr) return p.settle(f, true, true);
  if (dr->code != 354) return p.settle(rejected(*dr, "DATA command"), dr->code == 421, true);
  if (auto e = send(tx.data, s_.timeouts.data_xfer, "sending message body")) return p.settle(*e, true, true);
  // From here the server may have the message: a lost reply is not retried
  // on another host in this delivery.
  auto er = read(s_.timeouts.data_done, "sending end of data -- message may be sent more than once", f);
  if (!er) return p.settle(f, false, true);
  if (er->klass() != 2) return p.settle(rejected(*er, "end of DATA command"), false, true);
  for (std::size_t i = 0; i < p.out.size(); ++i)
    if (p.accepted[i]) p.out[i] = {Status::sent, er->dsn(), printable(er->text()), false};
}

bool Session::reset() {
  if (!usable_) return false;
  Failure f;
  if (send("RSET\r\n", s_.timeouts.mail, "sending RSET")) return false;
  auto r = read(s_.timeouts.mail, "sending RSET", f);
  if (!r || r->code != 250) {
    usable_ = false;
    return false;
  }
  return true;
}

void Session::quit() {
  if (!usable_) return;
  Failure f;
  if (!send("QUIT\r\n", s_.timeouts.quit, "sending QUIT")) (void)read(s_.timeouts.quit, "sending QUIT", f);
  usable_ = false;
}

}  // namespace posthorn::smtp

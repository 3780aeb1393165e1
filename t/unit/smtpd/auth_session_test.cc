// The session's STARTTLS and AUTH parts (smtpd/tls_verb.cc,
// smtpd/auth_verb.cc), driven with strings and a fake Security owner.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/mime/transfer.h"
#include "smtpd/session.h"

using namespace posthorn;
using namespace posthorn::smtpd;

namespace {

std::string b64(std::string_view s) { return mime::base64_encode(s, ""); }

class EnvelopeSink : public Sink {
 public:
  std::vector<queue::Envelope> opened;
  class Msg : public Message {
   public:
    void feed(std::string_view) override {}
    void commit(Done done) override { done({250, "2.0.0", "Ok: queued as Q"}); }
  };
  std::unique_ptr<Message> open(const queue::Envelope& env) override {
    opened.push_back(env);
    return std::make_unique<Msg>();
  }
};

class FakeSecurity : public Security {
 public:
  int tls_starts = 0;
  std::vector<AuthRequest> checks;
  void start_tls() override { ++tls_starts; }
  void check_password(const AuthRequest& r) override { checks.push_back(r); }
};

Settings settings() {
  Settings s;
  s.myhostname = "mx.example";
  s.banner = "mx.example ESMTP Posthorn";
  s.mydestination = {"example.org"};
  s.client_addr = "192.0.2.1";
  s.tls_offered = true;
  s.auth_mechanisms_tls = {"PLAIN", "LOGIN"};
  return s;
}

struct Run {
  EnvelopeSink sink;
  FakeSecurity sec;
  std::string out;
  Session session;
  explicit Run(Settings s = settings(), bool with_security = true)
      : session(std::move(s), sink, [this](std::string_view b) { out.append(b); },
                with_security ? &sec : nullptr) {
    session.start();
    out.clear();
  }
  std::string say(std::string_view in) {
    const std::size_t at = out.size();
    session.feed(in);
    return out.substr(at);
  }
  // STARTTLS and a finished handshake.
  void tls() {
    REQUIRE(say("STARTTLS\r\n") == "220 2.0.0 Ready to start TLS\r\n");
    session.tls_started();
  }
  std::string answer(AuthOutcome o) {
    const std::size_t at = out.size();
    session.auth_checked(o);
    return out.substr(at);
  }
};

Settings plaintext_auth() {
  Settings s = settings();
  s.auth_mechanisms_plain = {"PLAIN", "LOGIN"};
  return s;
}

}  // namespace

TEST_CASE("STARTTLS is announced only with an owner and only before TLS", "[smtpd][tls]") {
  Run r;
  std::string ehlo = r.say("EHLO c.example\r\n");
  CHECK(ehlo.find("250-STARTTLS\r\n") != std::string::npos);
  CHECK(ehlo.find("AUTH") == std::string::npos);  // AUTH only under TLS here
  r.tls();
  ehlo = r.say("EHLO c.example\r\n");
  CHECK(ehlo.find("STARTTLS") == std::string::npos);
  CHECK(ehlo.find("250-AUTH PLAIN LOGIN\r\n") != std::string::npos);
  Run bare(settings(), false);
  CHECK(bare.say("EHLO c.example\r\n").find("STARTTLS") == std::string::npos);
  CHECK(bare.say("STARTTLS\r\n") == "502 5.5.1 Error: command not implemented\r\n");
}

TEST_CASE("input pipelined after STARTTLS is dropped, for every split", "[smtpd][tls]") {
  const std::string wire = "EHLO c.example\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<x@y.example>\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Run r;
    r.say(wire.substr(0, cut));
    r.say(wire.substr(cut));
    INFO("cut at " << cut);
    CHECK(r.out.substr(r.out.find("250 DSN\r\n") + 9) == "220 2.0.0 Ready to start TLS\r\n");
    CHECK(r.sec.tls_starts == 1);
    CHECK(r.session.tls_pending());
    r.session.tls_started();
    CHECK_FALSE(r.session.tls_pending());
    // The pipelined MAIL was never executed.
    CHECK(r.say("RCPT TO:<b@example.org>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  }
}

TEST_CASE("STARTTLS refusals", "[smtpd][tls]") {
  Run r;
  CHECK(r.say("STARTTLS now\r\n") == "501 5.5.4 Syntax: STARTTLS\r\n");
  r.say("EHLO c.example\r\nMAIL FROM:<a@c.example>\r\n");
  CHECK(r.say("STARTTLS\r\n") == "503 5.5.1 Error: MAIL transaction in progress\r\n");
  Settings w = settings();
  w.tls_wrapped = true;
  Run wrapped(w);
  CHECK(wrapped.say("STARTTLS\r\n") == "554 5.5.1 Error: TLS already active\r\n");
  CHECK(wrapped.say("EHLO c.example\r\n").find("250-AUTH PLAIN LOGIN") != std::string::npos);
}

TEST_CASE("encrypt: mail commands wait for STARTTLS", "[smtpd][tls]") {
  Settings s = settings();
  s.tls_required = true;
  Run r(s);
  r.say("EHLO c.example\r\n");
  const std::string must = "530 5.7.0 Must issue a STARTTLS command first\r\n";
  for (const char* cmd : {"MAIL FROM:<a@c.example>\r\n", "RCPT TO:<b@example.org>\r\n",
                          "DATA\r\n", "VRFY bob\r\n", "EXPN list\r\n", "AUTH PLAIN AGEAYg==\r\n"})
    CHECK(r.say(cmd) == must);
  CHECK(r.say("NOOP\r\n") == "250 2.0.0 Ok\r\n");
  CHECK(r.say("RSET\r\n") == "250 2.0.0 Ok\r\n");
  r.tls();
  r.say("EHLO c.example\r\n");
  CHECK(r.say("MAIL FROM:<a@c.example>\r\n") == "250 2.1.0 Ok\r\n");
}

TEST_CASE("AUTH PLAIN with an initial response; input waits for the answer", "[smtpd][auth]") {
  Run r;
  r.tls();
  r.say("EHLO c.example\r\n");
  const std::string ir = b64(std::string("\0bob\0s3cret", 11));
  // Pipelined behind AUTH: held until the password check is answered.
  CHECK(r.say("AUTH PLAIN " + ir + "\r\nMAIL FROM:<bob@c.example>\r\n").empty());
  REQUIRE(r.sec.checks.size() == 1);
  CHECK(r.sec.checks[0].mechanism == "PLAIN");
  CHECK(r.sec.checks[0].credentials.login == "bob");
  CHECK(r.sec.checks[0].credentials.password == "s3cret");
  CHECK(r.session.waiting());
  CHECK(r.say("RCPT TO:<far@elsewhere.example>\r\n").empty());
  CHECK(r.answer({AuthOutcome::ok, "bob"}) ==
        "235 2.7.0 Authentication successful\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
  CHECK(r.session.sasl_login() == "bob");
  CHECK(r.session.sasl_method() == "PLAIN");
  r.say("DATA\r\n.\r\n");
  REQUIRE(r.sink.opened.size() == 1);
  CHECK(r.sink.opened[0].client.protocol == "ESMTPSA");
  CHECK(r.sink.opened[0].client.sasl_user == "bob");
  CHECK(r.say("AUTH PLAIN " + ir + "\r\n") == "503 5.5.1 Error: already authenticated\r\n");
}

TEST_CASE("the AUTH exchange gives the same replies for every split", "[smtpd][auth]") {
  const std::string wire = "EHLO c.example\r\nAUTH LOGIN\r\n" + b64("bob") + "\r\n" +
                           b64("pw") + "\r\nNOOP\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Run r(plaintext_auth());
    r.say(wire.substr(0, cut));
    r.say(wire.substr(cut));
    INFO("cut at " << cut);
    REQUIRE(r.sec.checks.size() == 1);
    CHECK(r.sec.checks[0].mechanism == "LOGIN");
    CHECK(r.sec.checks[0].credentials.password == "pw");
    CHECK(r.answer({AuthOutcome::failed, ""}) ==
          "535 5.7.8 Error: authentication failed: authentication failure\r\n250 2.0.0 Ok\r\n");
    CHECK(r.out.find("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n") != std::string::npos);
    CHECK(r.session.sasl_login().empty());
  }
}

TEST_CASE("AUTH replies: cancel, bad base64, temporary failure, refusals", "[smtpd][auth]") {
  Run r(plaintext_auth());
  CHECK(r.say("AUTH PLAIN\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
  r.say("EHLO c.example\r\n");
  CHECK(r.say("AUTH\r\n") == "501 5.5.4 Syntax: AUTH mechanism\r\n");
  CHECK(r.say("AUTH PLAIN a b\r\n") == "501 5.5.4 Syntax: AUTH mechanism\r\n");
  CHECK(r.say("AUTH CRAM-MD5\r\n") == "504 5.5.4 Unrecognized authentication type\r\n");
  CHECK(r.say("AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
  CHECK(r.say("*\r\n") == "501 5.0.0 Authentication aborted\r\n");
  CHECK(r.say("AUTH PLAIN\r\n") == "334 \r\n");
  CHECK(r.say("not base64!\r\n") == "501 5.5.2 Cannot decode response\r\n");
  CHECK(r.say("AUTH PLAIN QQ\r\n") == "501 5.5.2 Cannot decode response\r\n");
  CHECK(r.say("AUTH PLAIN " + b64(std::string("eve\0bob\0pw", 10)) + "\r\n") ==
        "535 5.7.8 Error: authentication failed: malformed credentials\r\n");
  r.say("AUTH PLAIN " + b64(std::string("\0bob\0pw", 7)) + "\r\n");
  CHECK(r.answer({AuthOutcome::temporary, ""}) == "454 4.7.0 Temporary authentication failure\r\n");
  CHECK(r.session.sasl_method().empty());
  r.say("MAIL FROM:<a@c.example>\r\n");
  CHECK(r.say("AUTH PLAIN =\r\n") == "503 5.5.1 Error: MAIL transaction in progress\r\n");
  CHECK(r.sec.checks.size() == 1);
  // A late or repeated answer changes nothing.
  CHECK(r.answer({AuthOutcome::ok, "bob"}).empty());
  CHECK(r.session.sasl_login().empty());
}

TEST_CASE("AUTH offered under TLS only: 538 before, and not enabled without mechanisms",
          "[smtpd][auth]") {
  Run r;
  r.say("EHLO c.example\r\n");
  CHECK(r.say("AUTH PLAIN\r\n") ==
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  CHECK(r.say("AUTH FOO\r\n") == "504 5.5.4 Unrecognized authentication type\r\n");
  Settings off = settings();
  off.auth_mechanisms_tls.clear();
  Run none(off);
  none.say("EHLO c.example\r\n");
  CHECK(none.say("AUTH PLAIN\r\n") == "503 5.5.1 Error: authentication not enabled\r\n");
  CHECK(none.say("MAIL FROM:<a@c.example> AUTH=<>\r\n") ==
        "555 5.5.4 Unsupported option: AUTH\r\n");
}

TEST_CASE("an over-long response line ends the exchange", "[smtpd][auth]") {
  Settings s = plaintext_auth();
  s.max_line = 64;
  Run r(s);
  r.say("EHLO c.example\r\n");
  CHECK(r.say("AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
  CHECK(r.say(std::string(100, 'Q') + "\r\n") == "500 5.5.2 Error: command line too long\r\n");
  CHECK(r.say("NOOP\r\n") == "250 2.0.0 Ok\r\n");  // a command again, not a response
  CHECK(r.say("AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n");
  CHECK(r.say("Ym9i\n") == "550 5.5.2 Error: bare <LF> received\r\n");
  CHECK(r.say("NOOP\r\n") == "250 2.0.0 Ok\r\n");
}

TEST_CASE("relay after AUTH follows smtpd_relay_restrictions", "[smtpd][auth]") {
  for (bool permit : {true, false}) {
    Settings s = plaintext_auth();
    s.relay_authenticated = permit;
    Run r(s);
    r.say("EHLO c.example\r\nMAIL FROM:<a@c.example> AUTH=bob+40c.example\r\n");
    CHECK(r.say("RCPT TO:<x@far.example>\r\n").starts_with("554 5.7.1"));
    r.say("RSET\r\nAUTH PLAIN " + b64(std::string("\0bob\0pw", 7)) + "\r\n");
    r.answer({AuthOutcome::ok, "bob"});
    r.say("MAIL FROM:<a@c.example> AUTH=<>\r\n");
    INFO("permit_sasl_authenticated " << permit);
    CHECK(r.say("RCPT TO:<x@far.example>\r\n").starts_with(permit ? "250 2.1.5" : "554 5.7.1"));
    CHECK(r.say("RCPT TO:<y@example.org>\r\n") == "250 2.1.5 Ok\r\n");
  }
}

TEST_CASE("protocol names follow RFC 3848; STARTTLS forgets an earlier AUTH", "[smtpd][auth]") {
  Run r(plaintext_auth());
  auto proto = [&] {
    r.say("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n.\r\n");
    return r.sink.opened.back().client.protocol;
  };
  r.say("HELO c.example\r\n");
  CHECK(proto() == "SMTP");
  r.say("EHLO c.example\r\n");
  CHECK(proto() == "ESMTP");
  r.say("AUTH PLAIN " + b64(std::string("\0bob\0pw", 7)) + "\r\n");
  r.answer({AuthOutcome::ok, "bob"});
  CHECK(proto() == "ESMTPA");
  r.tls();
  CHECK(r.session.sasl_login().empty());
  r.say("EHLO c.example\r\n");
  CHECK(proto() == "ESMTPS");
  CHECK(r.sink.opened.back().client.sasl_user.empty());
  r.say("AUTH PLAIN " + b64(std::string("\0bob\0pw", 7)) + "\r\n");
  r.answer({AuthOutcome::ok, "bob"});
  CHECK(proto() == "ESMTPSA");
}

TEST_CASE("failed logins count towards the hard error limit", "[smtpd][auth]") {
  Settings s = plaintext_auth();
  s.hard_error_limit = 3;
  Run r(s);
  r.say("EHLO c.example\r\n");
  for (int i = 0; i < 3; ++i) {
    r.say("AUTH PLAIN " + b64(std::string("\0bob\0no", 7)) + "\r\n");
    r.answer({AuthOutcome::failed, ""});
  }
  CHECK(r.session.finished());
  CHECK(r.out.ends_with("421 4.7.0 mx.example Error: too many errors\r\n"));
}

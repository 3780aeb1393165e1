// The SMTP client state machine against a scripted server (a fake
// Transport): pipelining, per-recipient and DATA-stage results, fall-back
// marks, time-outs at each stage, EHLO->HELO, AUTH, DSN parameters, RSET.
#include "smtp/session.h"

#include <catch2/catch.hpp>

#include <deque>

#include "lib/mime/transfer.h"
#include "smtp/content.h"

using namespace posthorn;
using namespace posthorn::smtp;

namespace {

// A server that answers each command line (and each message, after a 354)
// with the next scripted reply. "TIMEOUT" makes the next receive() time
// out, "CLOSE" ends the stream, "STALL" makes sending the message body time
// out. `writes` records each send() call, `commands` each client line.
class ScriptedServer final : public Transport {
 public:
  explicit ScriptedServer(std::string greeting, std::deque<std::string> script)
      : out_(std::move(greeting)), script_(std::move(script)) {}

  Result<void> send(std::string_view bytes, Millis) override {
    if (fail_sends) return make_error(Errc::closed, "reset by peer");
    writes.emplace_back(bytes);
    in_ += bytes;
    for (;;) {
      if (in_data_) {
        std::size_t end = in_.find("\r\n.\r\n");
        if (in_.rfind(".\r\n", 0) == 0) end = 0;
        if (end == std::string::npos) break;
        if (!script_.empty() && script_.front() == "STALL") return make_error(Errc::timeout, "stall");
        std::size_t cut = end == 0 ? 3 : end + 5;
        messages.push_back(in_.substr(0, cut));
        in_.erase(0, cut);
        in_data_ = false;
        answer();
        continue;
      }
      std::size_t nl = in_.find("\r\n");
      if (nl == std::string::npos) break;
      std::string line = in_.substr(0, nl);
      in_.erase(0, nl + 2);
      commands.push_back(line);
      bool data = line == "DATA";
      std::string reply = answer();
      if (data && reply.rfind("354", 0) == 0) in_data_ = true;
    }
    return {};
  }
  Result<std::string> receive(Millis) override {
    if (out_.empty()) {
      if (!script_.empty() && script_.front() == "CLOSE") return make_error(Errc::closed, "closed");
      if (pending_timeout_ || (!script_.empty() && script_.front() == "TIMEOUT"))
        return make_error(Errc::timeout, "timed out");
      return make_error(Errc::timeout, "nothing scripted");
    }
    std::string o;
    o.swap(out_);
    return o;
  }
  TlsResult start_tls(tls::SslPtr, Millis) override { return {make_error(Errc::protocol, "no TLS here"), {}}; }
  bool tls_active() const override { return false; }

  std::vector<std::string> writes, commands, messages;
  bool fail_sends = false;  // every send() fails as on a reset connection

 private:
  std::string answer() {
    if (script_.empty() || script_.front() == "TIMEOUT" || script_.front() == "CLOSE") {
      pending_timeout_ = true;
      return {};
    }
    std::string r = script_.front();
    script_.pop_front();
    out_ += r;
    return r;
  }
  std::string out_, in_;
  std::deque<std::string> script_;
  bool in_data_ = false, pending_timeout_ = false;
};

const std::string kEhloPipe = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250 DSN\r\n";
const std::string kEhloPlain = "250 mx.test\r\n";

SessionSettings settings() {
  SessionSettings s;
  s.helo_name = "me.example";
  return s;
}

Transaction tx(std::vector<std::string> rcpts) {
  Transaction t;
  t.sender = "from@me.example";
  for (auto& r : rcpts) t.rcpts.push_back({r, 0, ""});
  t.data = data_stream("Subject: x\r\n\r\nhello\r\n");
  t.size = 25;
  return t;
}

}  // namespace

TEST_CASE("pipelined transaction: one write, replies in order, per-recipient results", "[smtp][session]") {
  ScriptedServer srv("220 mx.test ESMTP\r\n",
                     {kEhloPipe, "250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "550 5.1.1 <b@x>: no such user\r\n",
                      "451 4.3.0 <c@x>: try later\r\n", "354 go\r\n", "250 2.0.0 Ok: queued as ABC\r\n"});
  Session s(srv, settings(), "mx.test[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  CHECK(s.extensions().pipelining);
  auto out = s.transaction(tx({"a@x", "b@x", "c@x"}));
  REQUIRE(out.size() == 3);
  CHECK(out[0].status == Status::sent);
  CHECK(out[0].text == "250 2.0.0 Ok: queued as ABC");
  CHECK(out[0].dsn == "2.0.0");
  CHECK(out[1].status == Status::bounced);
  CHECK(out[1].dsn == "5.1.1");
  CHECK(out[1].text == "host mx.test[192.0.2.1] said: 550 5.1.1 <b@x>: no such user (in reply to RCPT TO command)");
  CHECK(out[2].status == Status::deferred);
  CHECK_FALSE(out[2].retry_elsewhere);
  // MAIL, the three RCPTs and DATA went out in one write.
  REQUIRE(srv.writes.size() >= 3);
  CHECK(srv.writes[1] ==
        "MAIL FROM:<from@me.example> SIZE=25\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\nRCPT TO:<c@x>\r\nDATA\r\n");
  REQUIRE(srv.messages.size() == 1);
  CHECK(srv.messages[0] == "Subject: x\r\n\r\nhello\r\n.\r\n");
  CHECK(s.usable());
}

TEST_CASE("without PIPELINING: one command at a time", "[smtp][session]") {
  ScriptedServer srv("220 mx.test\r\n",
                     {kEhloPlain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n"});
  Session s(srv, settings(), "mx.test[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  auto out = s.transaction(tx({"a@x"}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].status == Status::sent);
  CHECK(srv.commands == std::vector<std::string>{"EHLO me.example", "MAIL FROM:<from@me.example>",
                                                 "RCPT TO:<a@x>", "DATA"});
  // EHLO, MAIL, RCPT, DATA and the message: each on its own.
  CHECK(srv.writes.size() == 5);
}

TEST_CASE("EHLO refused: HELO", "[smtp][session]") {
  ScriptedServer srv("220 old.test\r\n", {"502 what\r\n", "250 old.test\r\n"});
  Session s(srv, settings(), "old.test[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  CHECK_FALSE(s.extensions().esmtp);
  CHECK(srv.commands == std::vector<std::string>{"EHLO me.example", "HELO me.example"});
}

TEST_CASE("greeting failures", "[smtp][session]") {
  ScriptedServer busy("421 4.3.2 busy\r\n", {});
  Session s(busy, settings(), "mx.test[192.0.2.1]");
  auto f = s.open();
  REQUIRE(f);
  CHECK(f->dsn == "4.3.2");
  CHECK(f->text == "host mx.test[192.0.2.1] refused to talk to me: 421 4.3.2 busy");
  CHECK_FALSE(s.usable());

  ScriptedServer mute("", {"TIMEOUT"});
  Session m(mute, settings(), "mx.test[192.0.2.1]");
  auto g = m.open();
  REQUIRE(g);
  CHECK(g->dsn == "4.4.2");
  CHECK(g->text == "conversation with mx.test[192.0.2.1] timed out while receiving the initial server greeting");

  ScriptedServer garbage("hello there\r\n", {});
  Session gs(garbage, settings(), "mx.test[192.0.2.1]");
  auto h = gs.open();
  REQUIRE(h);
  CHECK(h->text.find("malformed server reply") != std::string::npos);
}

TEST_CASE("MAIL refused: every recipient, temporary ones may go elsewhere", "[smtp][session]") {
  ScriptedServer srv("220 mx\r\n", {kEhloPipe, "451 4.7.1 greylisted\r\n", "503 no\r\n", "503 no\r\n", "503 no\r\n"});
  Session s(srv, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  auto out = s.transaction(tx({"a@x", "b@x"}));
  REQUIRE(out.size() == 2);
  for (auto& o : out) {
    CHECK(o.status == Status::deferred);
    CHECK(o.retry_elsewhere);
    CHECK(o.text == "host mx[192.0.2.1] said: 451 4.7.1 greylisted (in reply to MAIL FROM command)");
  }
  CHECK(s.usable());  // the pipelined replies were read: in step for RSET

  ScriptedServer perm("220 mx\r\n", {kEhloPlain, "553 5.1.8 bad sender\r\n"});
  Session p(perm, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(p.open());
  auto po = p.transaction(tx({"a@x"}));
  CHECK(po[0].status == Status::bounced);
  CHECK(po[0].dsn == "5.1.8");
  CHECK_FALSE(po[0].retry_elsewhere);
}

TEST_CASE("a refused MAIL whose pipelined DATA got 354 anyway stays in step", "[smtp][session]") {
  // The server refused MAIL but took RCPT and DATA: an empty message ends
  // the 354, and RSET finds the session ready, without waiting.
  ScriptedServer srv("220 mx\r\n", {kEhloPipe, "451 4.3.0 busy\r\n", "250 ok\r\n", "354 go\r\n",
                                     "554 5.5.1 no transaction\r\n", "250 reset\r\n"});
  Session s(srv, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  auto out = s.transaction(tx({"a@x"}));
  CHECK(out[0].status == Status::deferred);
  CHECK(out[0].retry_elsewhere);
  REQUIRE(srv.messages.size() == 1);
  CHECK(srv.messages[0] == ".\r\n");
  CHECK(s.reset());
}

TEST_CASE("DATA-stage results apply to every accepted recipient", "[smtp][session]") {
  SECTION("5xx to DATA") {
    ScriptedServer srv("220 mx\r\n", {kEhloPipe, "250 ok\r\n", "250 ok\r\n", "550 5.1.1 no\r\n", "554 5.6.0 no way\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x", "b@x"}));
    CHECK(out[0].status == Status::bounced);
    CHECK(out[0].text.find("(in reply to DATA command)") != std::string::npos);
    CHECK(out[1].text.find("(in reply to RCPT TO command)") != std::string::npos);
  }
  SECTION("4xx to the end of data") {
    ScriptedServer srv("220 mx\r\n", {kEhloPipe, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "452 4.3.1 full\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x"}));
    CHECK(out[0].status == Status::deferred);
    CHECK(out[0].dsn == "4.3.1");
    CHECK_FALSE(out[0].retry_elsewhere);
    CHECK(out[0].text.find("(in reply to end of DATA command)") != std::string::npos);
  }
  SECTION("no recipient accepted: no message is sent") {
    ScriptedServer srv("220 mx\r\n", {kEhloPipe, "250 ok\r\n", "550 no\r\n", "554 5.5.1 no valid recipients\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x"}));
    CHECK(out[0].status == Status::bounced);
    CHECK(srv.messages.empty());
    CHECK(s.usable());
  }
}

TEST_CASE("time-outs and lost connections at each stage", "[smtp][session]") {
  SECTION("stall while sending the body: deferred, may go elsewhere") {
    ScriptedServer srv("220 mx\r\n", {kEhloPipe, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "STALL"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x"}));
    CHECK(out[0].status == Status::deferred);
    CHECK(out[0].dsn == "4.4.2");
    CHECK(out[0].retry_elsewhere);
    CHECK(out[0].text == "conversation with mx[192.0.2.1] timed out while sending message body");
    CHECK_FALSE(s.usable());
  }
  SECTION("no reply to the end of data: not retried elsewhere") {
    ScriptedServer srv("220 mx\r\n", {kEhloPipe, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "TIMEOUT"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x"}));
    CHECK(out[0].status == Status::deferred);
    CHECK_FALSE(out[0].retry_elsewhere);
    CHECK(out[0].text.find("sending end of data -- message may be sent more than once") != std::string::npos);
  }
  SECTION("connection lost at RCPT") {
    ScriptedServer srv("220 mx\r\n", {kEhloPlain, "250 ok\r\n", "CLOSE"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x", "b@x"}));
    CHECK(out[1].retry_elsewhere);
    CHECK(out[0].text == "lost connection with mx[192.0.2.1] while sending RCPT TO");
  }
  SECTION("421 at RCPT ends the session for everyone") {
    ScriptedServer srv("220 mx\r\n", {kEhloPlain, "250 ok\r\n", "250 ok\r\n", "421 4.4.5 bye\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    auto out = s.transaction(tx({"a@x", "b@x"}));
    CHECK(out[0].retry_elsewhere);
    CHECK(out[1].retry_elsewhere);
    CHECK_FALSE(s.usable());
  }
}

TEST_CASE("ESMTP parameters only when offered", "[smtp][session]") {
  Transaction t = tx({"a@x"});
  t.rcpts[0].notify = queue::kNotifySuccess | queue::kNotifyFailure;
  t.rcpts[0].orcpt = "rfc822;a+b=c@x";
  t.ret = queue::DsnRet::hdrs;
  t.envid = "id 1";
  t.eight_bit = true;
  t.smtputf8 = true;
  ScriptedServer full("220 mx\r\n", {"250-mx\r\n250-DSN\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE\r\n",
                                     "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n"});
  Session s(full, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  (void)s.transaction(t);
  REQUIRE(full.commands.size() >= 3);
  CHECK(full.commands[1] == "MAIL FROM:<from@me.example> SIZE=25 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+201");
  CHECK(full.commands[2] == "RCPT TO:<a@x> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bb+3Dc@x");

  ScriptedServer bare("220 mx\r\n", {kEhloPlain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 ok\r\n"});
  Session b(bare, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(b.open());
  (void)b.transaction(t);
  CHECK(bare.commands[1] == "MAIL FROM:<from@me.example>");
  CHECK(bare.commands[2] == "RCPT TO:<a@x>");
}

TEST_CASE("AUTH PLAIN and LOGIN", "[smtp][session]") {
  const SaslCredentials creds{"user", "secret", {"PLAIN", "LOGIN"}};
  ScriptedServer plain("220 mx\r\n", {"250-mx\r\n250 AUTH LOGIN PLAIN\r\n", "235 ok\r\n"});
  Session p(plain, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(p.open());
  CHECK_FALSE(p.authenticate(creds));
  CHECK(plain.commands[1] == "AUTH PLAIN " + mime::base64_encode(std::string("\0user\0secret", 12), ""));

  ScriptedServer login("220 mx\r\n", {"250-mx\r\n250 AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n",
                                      "334 UGFzc3dvcmQ6\r\n", "535 5.7.8 bad\r\n"});
  Session l(login, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(l.open());
  auto f = l.authenticate(creds);
  REQUIRE(f);
  CHECK(f->dsn == "4.7.8");  // a refused login defers
  CHECK(f->text == "SASL authentication failed; server mx[192.0.2.1] said: 535 5.7.8 bad");
  CHECK(login.commands[2] == mime::base64_encode("user", ""));
  CHECK(login.commands[3] == mime::base64_encode("secret", ""));

  ScriptedServer none("220 mx\r\n", {"250-mx\r\n250 AUTH CRAM-MD5\r\n"});
  Session n(none, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(n.open());
  auto nf = n.authenticate(creds);
  REQUIRE(nf);
  CHECK(nf->dsn == "4.7.0");
}

TEST_CASE("RSET between transactions, QUIT at the end", "[smtp][session]") {
  ScriptedServer srv("220 mx\r\n", {kEhloPlain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 one\r\n",
                                    "250 reset\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 two\r\n",
                                    "221 bye\r\n"});
  Session s(srv, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  CHECK(s.transaction(tx({"a@x"}))[0].text == "250 one");
  CHECK(s.reset());
  CHECK(s.transaction(tx({"b@x"}))[0].text == "250 two");
  s.quit();
  CHECK(srv.commands.back() == "QUIT");
  CHECK_FALSE(s.usable());
  CHECK_FALSE(s.reset());
}

TEST_CASE("a reused session's RSET rides in the pipelined group", "[smtp][session]") {
  ScriptedServer srv("220 mx\r\n", {kEhloPipe, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 one\r\n",
                                    "250 reset\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 two\r\n"});
  Session s(srv, settings(), "mx[192.0.2.1]");
  REQUIRE_FALSE(s.open());
  CHECK(s.transaction(tx({"a@x"}))[0].text == "250 one");
  Transaction again = tx({"b@x"});
  again.reset_first = true;
  const std::size_t writes = srv.writes.size();
  CHECK(s.transaction(again)[0].text == "250 two");
  CHECK(srv.writes[writes] == "RSET\r\nMAIL FROM:<from@me.example> SIZE=25\r\nRCPT TO:<b@x>\r\nDATA\r\n");
  CHECK_FALSE(s.stale());
  CHECK(s.usable());
}

TEST_CASE("a reused session that was dropped is stale and decides nothing", "[smtp][session]") {
  struct Case {
    const char* what;
    std::string ehlo;
    std::string after;  // the server's answer to the first command after EHLO
    bool fail_sends;
  };
  const Case cases[] = {
      {"pipelined: the connection is gone", kEhloPipe, "CLOSE", false},
      {"pipelined: the write itself fails", kEhloPipe, "", true},
      {"pipelined: RSET refused", kEhloPipe, "421 4.4.2 idle too long\r\n", false},
      {"without pipelining: RSET on its own first", kEhloPlain, "CLOSE", false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::deque<std::string> script{c.ehlo};
    if (!c.after.empty()) script.push_back(c.after);
    ScriptedServer srv("220 mx\r\n", script);
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    srv.fail_sends = c.fail_sends;
    Transaction t = tx({"a@x", "b@x"});
    t.reset_first = true;
    auto out = s.transaction(t);
    CHECK(s.stale());
    CHECK_FALSE(s.usable());
    for (auto& o : out) CHECK(o.retry_elsewhere);
    CHECK(srv.messages.empty());
    if (!c.fail_sends) CHECK(srv.commands.at(1) == "RSET");
  }
}

TEST_CASE("CHUNKING: the message goes as one BDAT LAST after the RCPT replies", "[smtp][session]") {
  const std::string ehlo = "250-mx.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SIZE\r\n";
  SECTION("accepted") {
    ScriptedServer srv("220 mx\r\n", {ehlo, "250 ok\r\n", "250 ok\r\n", "550 5.1.1 no\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    CHECK(s.extensions().chunking);
    Transaction t = tx({"a@x", "b@x"});
    t.bdat = true;
    t.data = chunk_stream(".dot\r\nend\r\n");
    // The scripted server answers lines; BDAT's payload is two lines here,
    // and the reply to the whole chunk is scripted after them.
    auto out = s.transaction(t);
    CHECK(srv.writes[1] == "MAIL FROM:<from@me.example> SIZE=25\r\nRCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\n");
    CHECK(srv.writes[2] == "BDAT 11 LAST\r\n.dot\r\nend\r\n");
    CHECK(out[1].status == Status::bounced);
  }
  SECTION("the verdict of the chunk's reply") {
    ScriptedServer srv("220 mx\r\n", {ehlo, "250 ok\r\n", "250 ok\r\n", "250 2.0.0 queued as B\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    Transaction t = tx({"a@x"});
    t.bdat = true;
    t.data = "x\r\n";
    auto out = s.transaction(t);
    CHECK(out[0].status == Status::sent);
    CHECK(out[0].text == "250 2.0.0 queued as B");
    CHECK(srv.commands.back() == "x");
  }
  SECTION("rejected chunk, and no recipient: no BDAT at all") {
    ScriptedServer srv("220 mx\r\n", {ehlo, "250 ok\r\n", "250 ok\r\n", "554 5.7.1 spam\r\n"});
    Session s(srv, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(s.open());
    Transaction t = tx({"a@x"});
    t.bdat = true;
    t.data = "x\r\n";
    auto out = s.transaction(t);
    CHECK(out[0].status == Status::bounced);
    CHECK(out[0].text == "host mx[192.0.2.1] said: 554 5.7.1 spam (in reply to BDAT command)");
    ScriptedServer none("220 mx\r\n", {ehlo, "250 ok\r\n", "550 5.1.1 no\r\n"});
    Session n(none, settings(), "mx[192.0.2.1]");
    REQUIRE_FALSE(n.open());
    auto nout = n.transaction(t);
    CHECK(nout[0].status == Status::bounced);
    CHECK(none.writes.size() == 2);  // EHLO, the envelope; no BDAT
    CHECK(n.usable());
  }
}

#include "smtpd/session.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace posthorn;
using namespace posthorn::smtpd;

namespace {

struct Stored {
  queue::Envelope env;
  std::string content;
};

class FakeSink : public Sink {
 public:
  std::vector<Stored> stored;
  std::vector<int> refusals;
  std::vector<std::string> commands, recipients;  // of each refusal
  void refused(const Reply& r, const queue::Envelope&, std::string_view command,
               std::string_view recipient) override {
    refusals.push_back(r.code);
    commands.emplace_back(command);
    recipients.emplace_back(recipient);
  }
  class Msg : public Message {
   public:
    Msg(FakeSink& s, queue::Envelope env) : sink_(s) { m_.env = std::move(env); }
    void feed(std::string_view b) override { m_.content.append(b); }
    void commit(Done done) override {
      sink_.stored.push_back(m_);
      done({250, "2.0.0", "Ok: queued as Q" + std::to_string(sink_.stored.size())});
    }

   private:
    FakeSink& sink_;
    Stored m_;
  };
  std::unique_ptr<Message> open(const queue::Envelope& env) override {
    return std::make_unique<Msg>(*this, env);
  }
};

Settings settings() {
  Settings s;
  s.myhostname = "mx.example";
  s.banner = "mx.example ESMTP Posthorn";
  s.mydestination = {"example.org"};
  s.client_addr = "192.0.2.1";
  return s;
}

struct Run {
  FakeSink sink;
  std::string out;
  std::vector<std::string> batches;
  Session session;
  explicit Run(Settings s = settings())
      : session(std::move(s), sink, [this](std::string_view b) {
          out.append(b);
          batches.emplace_back(b);
        }) {
    session.start();
  }
  std::string say(std::string_view in) {
    const std::size_t at = out.size();
    session.feed(in);
    return out.substr(at);
  }
};

const std::string kEhlo =
    "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250 DSN\r\n";

}  // namespace

TEST_CASE("a pipelined session gives the same replies for every split", "[smtpd]") {
  const std::string wire =
      "EHLO client.example\r\n"
      "MAIL FROM:<a@client.example> SIZE=20 BODY=8BITMIME RET=HDRS ENVID=x+2By\r\n"
      "RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org\r\n"
      "RCPT TO:<c@elsewhere.example>\r\n"
      "DATA\r\n"
      "Subject: hi\r\n\r\n..dot\r\n.\r\n"
      "BOGUS\r\nNOOP\r\nQUIT\r\n";
  const std::string expect = "220 mx.example ESMTP Posthorn\r\n" + kEhlo +
                             "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
                             "554 5.7.1 <c@elsewhere.example>: Relay access denied\r\n"
                             "354 End data with <CR><LF>.<CR><LF>\r\n"
                             "250 2.0.0 Ok: queued as Q1\r\n"
                             "500 5.5.2 Error: command not recognized\r\n"
                             "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n";
  for (std::size_t a = 0; a <= wire.size(); a += 3) {
    for (std::size_t b = a; b <= wire.size(); b += 7) {
      Run r;
      r.session.feed(wire.substr(0, a));
      r.session.feed(wire.substr(a, b - a));
      r.session.feed(wire.substr(b));
      REQUIRE(r.out == expect);
      REQUIRE(r.session.finished());
      REQUIRE(r.sink.stored.size() == 1);
      const Stored& m = r.sink.stored[0];
      CHECK(m.content == "Subject: hi\r\n\r\n.dot\r\n");
      CHECK(m.env.sender == "a@client.example");
      REQUIRE(m.env.recipients.size() == 1);
      CHECK(m.env.recipients[0].address == "b@example.org");
      CHECK(m.env.recipients[0].notify == (queue::kNotifySuccess | queue::kNotifyFailure));
      CHECK(m.env.recipients[0].orcpt == "rfc822;b@example.org");
      CHECK(m.env.envid == "x+y");
      CHECK(m.env.ret == queue::DsnRet::hdrs);
      CHECK(m.env.body_type == queue::BodyType::eight_bit_mime);
      CHECK(m.env.client.helo == "client.example");
      CHECK(m.env.client.protocol == "ESMTP");
      CHECK(m.env.client.addr == "192.0.2.1");
    }
  }
}

TEST_CASE("pipelined replies are batched until the input is drained", "[smtpd]") {
  Run r;
  r.say("EHLO c\r\n");
  r.batches.clear();
  r.say("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<d@example.org>\r\n");
  REQUIRE(r.batches.size() == 1);
  CHECK(r.batches[0] == "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
  r.batches.clear();
  // NOOP ends a pipeline group: its reply goes out before RSET's.
  r.say("NOOP\r\nRSET\r\n");
  CHECK(r.batches == std::vector<std::string>{"250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n"});
}

TEST_CASE("command errors get their codes", "[smtpd]") {
  struct Case {
    std::string in, reply;
  };
  const std::vector<Case> cases = {
      {"XYZZY\r\n", "500 5.5.2 Error: command not recognized\r\n"},
      {"RCPT TO:<b@example.org>\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
      {"DATA\r\n", "503 5.5.1 Error: need RCPT command\r\n"},
      {"HELO\r\n", "501 5.5.4 Syntax: HELO hostname\r\n"},
      {"EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
      {"MAIL TO:<a@b.example>\r\n", "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"},
      {"MAIL FROM:<a@@b>\r\n", "501 5.1.7 Bad domain name syntax\r\n"},
      {"MAIL FROM:a@b.example\r\n", "501 5.1.7 Bad address syntax\r\n"},
      {"MAIL FROM:<j\xc3\xb6rg@b.example>\r\n", "553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n"},
      {"MAIL FROM:<a@b.example> FOO=1\r\n", "555 5.5.4 Unsupported option: FOO\r\n"},
      {"MAIL FROM:<a@b.example> SIZE=x\r\n", "501 5.5.4 Bad SIZE parameter syntax\r\n"},
      {"MAIL FROM:<a@b.example> SIZE=1 SIZE=1\r\n", "501 5.5.4 Duplicate SIZE parameter\r\n"},
      {"MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n", "501 5.5.4 Unsupported BODY parameter value\r\n"},
      {"MAIL FROM:<a@b.example> SIZE=99999999\r\n", "552 5.3.4 Message size exceeds fixed limit\r\n"},
      {"MAIL FROM:<a@b.example> RET=ALL\r\n", "501 5.5.4 Bad RET parameter syntax\r\n"},
      {"MAIL FROM:<a@b.example> ENVID=a+zz\r\n", "501 5.5.4 Bad ENVID parameter syntax\r\n"},
      {"VRFY root\r\n", "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"},
      {"EXPN staff\r\n", "502 5.5.1 EXPN command is not supported\r\n"},
      {"HELP\r\n", "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\r\n"},
      {"NOOP\n", "550 5.5.2 Error: bare <LF> received\r\n"},
      {std::string(3000, 'A') + "\r\n", "500 5.5.2 Error: command line too long\r\n"},
      {"BDAT x\r\n", "501 5.5.4 Syntax: BDAT count [LAST]\r\n"},
  };
  for (const Case& c : cases) {
    Run r;
    r.say("EHLO c\r\n");
    INFO(c.in);
    CHECK(r.say(c.in) == c.reply);
  }
  Run r;
  r.say("EHLO c\r\nMAIL FROM:<a@c.example>\r\n");
  CHECK(r.say("MAIL FROM:<a@c.example>\r\n") == "503 5.5.1 Error: nested MAIL command\r\n");
  CHECK(r.say("RCPT TO:<>\r\n") == "501 5.1.3 Bad recipient address syntax\r\n");
  CHECK(r.say("RCPT TO:<b@example.org> NOTIFY=NEVER,DELAY\r\n") ==
        "501 5.5.4 Bad NOTIFY parameter syntax\r\n");
  CHECK(r.say("RCPT TO:<b@example.org> XX\r\n") == "555 5.5.4 Unsupported option: XX\r\n");
  CHECK(r.say("RCPT TO:<postmaster>\r\n") == "250 2.1.5 Ok\r\n");
}

TEST_CASE("VRFY is refused when disable_vrfy_command is set", "[smtpd]") {
  Settings s = settings();
  s.disable_vrfy = true;
  Run r(s);
  CHECK(r.say("VRFY root\r\n") == "502 5.5.1 VRFY command is disabled\r\n");
}

TEST_CASE("HELO is required when smtpd_helo_required is set", "[smtpd]") {
  Settings s = settings();
  s.helo_required = true;
  Run r(s);
  CHECK(r.say("MAIL FROM:<a@c.example>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
  CHECK(r.say("HELO c\r\nMAIL FROM:<a@c.example>\r\n") == "250 mx.example\r\n250 2.1.0 Ok\r\n");
}

TEST_CASE("the hard error limit ends the session with 421", "[smtpd]") {
  Settings s = settings();
  s.hard_error_limit = 3;
  Run r(s);
  const std::string out = r.say("A\r\nB\r\nC\r\nNOOP\r\n");
  CHECK(out ==
        "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: command not recognized\r\n"
        "500 5.5.2 Error: command not recognized\r\n421 4.7.0 mx.example Error: too many errors\r\n");
  CHECK(r.sink.refusals == std::vector<int>{500, 500, 500});
  CHECK(r.session.finished());
  CHECK(r.say("NOOP\r\n").empty());
}

TEST_CASE("recipient limit and relay control", "[smtpd]") {
  Settings s = settings();
  s.recipient_limit = 2;
  Run r(s);
  r.say("EHLO c\r\nMAIL FROM:<>\r\n");
  CHECK(r.say("RCPT TO:<a@EXAMPLE.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n") ==
        "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n");
  CHECK(r.say("RCPT TO:<x@[192.0.2.9]>\r\n") == "554 5.7.1 <x@[192.0.2.9]>: Relay access denied\r\n");
  // The log gets the command and the recipient (Postfix's "RCPT from ... to=<x>").
  REQUIRE(r.sink.commands.size() == 1);  // the 452 overshoot is not logged
  CHECK(r.sink.commands.back() == "RCPT");
  CHECK(r.sink.recipients.back() == "x@[192.0.2.9]");
  CHECK(r.say("RCPT TO:x@y\r\n").substr(0, 3) == "501");
  CHECK(r.sink.recipients.back().empty());  // refused before the address was known
  CHECK(r.say("MAIL FROM:<>\r\n").substr(0, 3) == "503");
  CHECK(r.sink.commands.back() == "MAIL");
  CHECK(r.sink.recipients.back().empty());
  Settings t = settings();
  t.client_trusted = true;
  Run trusted(t);
  CHECK(trusted.say("HELO c\r\nMAIL FROM:<a>\r\n").find("501 5.1.7") != std::string::npos);
  CHECK(trusted.say("MAIL FROM:<a@c.example>\r\nRCPT TO:<x@far.example>\r\n") ==
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
}

namespace {
// A transaction up to and including the 354, ready for content.
Run& to_data(Run& r) {
  r.say("EHLO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  return r;
}
}  // namespace

TEST_CASE("dot-stuffing and the end of data", "[smtpd]") {
  struct Case {
    std::string content, stored;
  };
  const std::vector<Case> cases = {
      {"a\r\n.\r\n", "a\r\n"},
      {".\r\n", ""},
      {"..\r\n.\r\n", ".\r\n"},
      {"...x\r\n.\r\n", "..x\r\n"},
      {"a\r\n.b\r\n.\r\n", "a\r\nb\r\n"},
      {"a\r\n.\rx\r\n.\r\n", "a\r\n\rx\r\n"},    // CR "." CR is content
      {"a\r\n\r.\r\r\n.\r\n", "a\r\n\r.\r\r\n"},  // bare CR is content
  };
  for (const Case& c : cases) {
    for (std::size_t cut = 0; cut <= c.content.size(); ++cut) {
      Run r;
      to_data(r);
      r.session.feed(c.content.substr(0, cut));
      r.session.feed(c.content.substr(cut));
      INFO(c.content << " cut " << cut);
      REQUIRE(r.sink.stored.size() == 1);
      CHECK(r.sink.stored[0].content == c.stored);
    }
  }
}

TEST_CASE("bare LF in DATA rejects the message after its real end", "[smtpd]") {
  const std::vector<std::string> smuggled = {
      "a\n.\r\nMAIL FROM:<evil@x.example>\r\n.\r\n",  // LF "." CR LF
      "a\r\n.\n\r\n.\r\n",                            // "." LF
      "a\nb\r\n.\r\n",
  };
  for (const std::string& c : smuggled) {
    for (std::size_t cut = 0; cut <= c.size(); ++cut) {
      Run r;
      to_data(r);
      r.session.feed(c.substr(0, cut));
      const std::size_t at = r.out.size();
      r.session.feed(c.substr(cut));
      INFO(c << " cut " << cut);
      CHECK(r.sink.stored.empty());
      CHECK(r.out.find("550 5.5.2 Error: bare <LF> received\r\n") != std::string::npos);
      CHECK(r.out.find("2.1.0") == r.out.rfind("2.1.0"));  // no second MAIL executed
      (void)at;
    }
  }
}

TEST_CASE("message_size_limit is enforced at the end of data", "[smtpd]") {
  Settings s = settings();
  s.message_size_limit = 10;
  Run r(s);
  to_data(r);
  CHECK(r.say(std::string(20, 'x') + "\r\n.\r\n") == "552 5.3.4 Message size exceeds fixed limit\r\n");
  CHECK(r.sink.stored.empty());
  CHECK(r.say("RCPT TO:<b@example.org>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
}

TEST_CASE("BDAT chunks, LAST and sequence errors", "[smtpd]") {
  const std::string wire =
      "EHLO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\n"
      "BDAT 5\r\nab\r\nc"
      "BDAT 4 LAST\r\n.\r\n\n"
      "BDAT 3\r\nxyz"
      "QUIT\r\n";
  const std::string expect = "220 mx.example ESMTP Posthorn\r\n" + kEhlo +
                             "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 5 bytes\r\n"
                             "250 2.0.0 Ok: queued as Q1\r\n"
                             "503 5.5.1 Error: need MAIL command\r\n221 2.0.0 Bye\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Run r;
    r.session.feed(wire.substr(0, cut));
    r.session.feed(wire.substr(cut));
    REQUIRE(r.out == expect);
    REQUIRE(r.sink.stored.size() == 1);
    CHECK(r.sink.stored[0].content == "ab\r\nc.\r\n\n");
  }
  Run r;
  to_data(r);
  r.say(".\r\n");
  CHECK(r.say("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nBDAT 0 LAST\r\n") ==
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as Q2\r\n");
  CHECK(r.say("MAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nBDAT 1\r\nxDATA\r\n") ==
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 1 bytes\r\n503 5.5.1 Error: DATA after BDAT\r\n");
}

TEST_CASE("BDAT over message_size_limit ends the transaction", "[smtpd]") {
  Settings s = settings();
  s.message_size_limit = 4;
  Run r(s);
  r.say("EHLO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\n");
  CHECK(r.say("BDAT 6\r\n123456BDAT 1 LAST\r\nx") ==
        "552 5.3.4 Message size exceeds fixed limit\r\n503 5.5.1 Error: need MAIL command\r\n");
  CHECK(r.sink.stored.empty());
}

TEST_CASE("a whole session fed at every single cut and byte by byte", "[smtpd]") {
  const std::string wire =
      "ehlo c\r\nmail from:<a@c.example>\r\nrcpt to:<b@example.org>\r\ndata\r\n"
      "x\r\n..\r\n.\r\nNOOP\n" + std::string(2100, 'z') + "\r\nquit\r\n";
  Run whole;
  whole.session.feed(wire);
  CHECK(whole.out.find("250 2.0.0 Ok: queued as Q1\r\n550 5.5.2 Error: bare <LF> received\r\n"
                       "500 5.5.2 Error: command line too long\r\n221 2.0.0 Bye\r\n") !=
        std::string::npos);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Run r;
    r.session.feed(wire.substr(0, cut));
    r.session.feed(wire.substr(cut));
    REQUIRE(r.out == whole.out);
  }
  Run bytes;
  for (char c : wire) bytes.session.feed(std::string_view(&c, 1));
  CHECK(bytes.out == whole.out);
  REQUIRE(bytes.sink.stored.size() == 1);
  CHECK(bytes.sink.stored[0].content == "x\r\n.\r\n");
}

TEST_CASE("adversarial input: any split gives the same replies, nothing crashes", "[smtpd]") {
  // Token soup from a fixed seed: commands, partial markers, bare CR/LF, NUL.
  const std::vector<std::string> tokens = {
      "EHLO x\r\n", "MAIL FROM:<a@b.example>\r\n", "RCPT TO:<c@example.org>\r\n", "DATA\r\n",
      "BDAT 3\r\n", "BDAT 2 LAST\r\n", ".\r\n", "\r\n", "\n", "\r", ".", "..", std::string(1, '\0'),
      "RSET\r\n", "abc", "MAIL FROM:<>\r\n", "RCPT TO:<\xff@x>\r\n", "BDAT 99999\r\n",
  };
  std::uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 8); };
  for (int round = 0; round < 200; ++round) {
    std::string wire;
    for (int i = 0; i < 30; ++i) wire += tokens[next() % tokens.size()];
    Run whole;
    whole.session.feed(wire);
    for (std::size_t cut = 0; cut <= wire.size(); cut += 1 + next() % 5) {
      Run r;
      r.session.feed(wire.substr(0, cut));
      r.session.feed(wire.substr(cut));
      REQUIRE(r.out == whole.out);
      REQUIRE(r.sink.stored.size() == whole.sink.stored.size());
    }
  }
}

TEST_CASE("SMTPUTF8 enables non-ASCII addresses for the transaction", "[smtpd]") {
  Run r;
  r.say("EHLO c\r\n");
  CHECK(r.say("MAIL FROM:<j\xc3\xb6rg@c.example> SMTPUTF8\r\nRCPT TO:<m\xc3\xbcller@example.org>\r\n") ==
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
  CHECK(r.say("BDAT 2 LAST\r\nhi") == "250 2.0.0 Ok: queued as Q1\r\n");
  CHECK(r.sink.stored[0].env.smtputf8);
  CHECK(r.sink.stored[0].env.recipients[0].address == "m\xc3\xbcller@example.org");
  CHECK(r.say("MAIL FROM:<a@c.example>\r\nRCPT TO:<m\xc3\xbcller@example.org>\r\n") ==
        "250 2.1.0 Ok\r\n553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n");
}

TEST_CASE("a failing commit is answered as the sink says", "[smtpd]") {
  struct Failing : Sink {
    struct M : Message {
      void feed(std::string_view) override {}
      void commit(Done done) override { done({451, "4.3.0", "Error: queue file write error"}); }
    };
    std::unique_ptr<Message> open(const queue::Envelope&) override { return std::make_unique<M>(); }
  } sink;
  std::string out;
  Session s(settings(), sink, [&out](std::string_view b) { out.append(b); });
  s.start();
  s.feed("HELO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nx\r\n.\r\n");
  CHECK(out.ends_with("354 End data with <CR><LF>.<CR><LF>\r\n451 4.3.0 Error: queue file write error\r\n"));
  CHECK(s.messages() == 0);
  CHECK(s.errors() == 1);
}

namespace {

// A store that answers later, as smtpd's writer threads do: the test plays
// the event loop and calls answer().
class LaterSink : public Sink {
 public:
  struct Pending {
    std::string content;
    Message::Done done;
    std::weak_ptr<int> alive;  // the Message's; expired once it is destroyed
  };
  std::vector<Pending> pending;
  class Msg : public Message {
   public:
    explicit Msg(LaterSink& s) : sink_(s) {}
    void feed(std::string_view b) override { content_.append(b); }
    void commit(Done done) override { sink_.pending.push_back({content_, std::move(done), alive_}); }

   private:
    LaterSink& sink_;
    std::string content_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  };
  std::unique_ptr<Message> open(const queue::Envelope&) override { return std::make_unique<Msg>(*this); }
  // The owner's side of the contract: no answer for a Message that is gone.
  bool answer(std::size_t i, Reply r) {
    if (pending.at(i).alive.expired()) return false;
    pending.at(i).done(std::move(r));
    return true;
  }
};

}  // namespace

TEST_CASE("the reply to the end of data waits for the store, and so does later input", "[smtpd]") {
  LaterSink sink;
  std::string out;
  Session s(settings(), sink, [&out](std::string_view b) { out.append(b); });
  s.start();
  s.feed("EHLO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  out.clear();
  // Pipelined after the dot: a second transaction and QUIT.
  s.feed("hello\r\n.\r\nMAIL FROM:<x@c.example>\r\nRCPT TO:<b@example.org>\r\nQUIT\r\n");
  REQUIRE(sink.pending.size() == 1);
  CHECK(sink.pending[0].content == "hello\r\n");
  CHECK(out.empty());
  CHECK(s.waiting());
  CHECK_FALSE(s.receiving());
  s.feed("NOOP\r\n");  // still waits, still unanswered
  CHECK(out.empty());
  REQUIRE(sink.answer(0, {250, "2.0.0", "Ok: queued as Q1"}));
  CHECK(out == "250 2.0.0 Ok: queued as Q1\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n221 2.0.0 Bye\r\n");
  CHECK(s.messages() == 1);
  CHECK(s.finished());
}

TEST_CASE("a store that fails later is answered with its error", "[smtpd]") {
  LaterSink sink;
  std::string out;
  Session s(settings(), sink, [&out](std::string_view b) { out.append(b); });
  s.start();
  s.feed("HELO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nBDAT 3 LAST\r\nabc");
  REQUIRE(sink.pending.size() == 1);
  out.clear();
  REQUIRE(sink.answer(0, {451, "4.3.0", "Error: queue file write error"}));
  CHECK(out == "451 4.3.0 Error: queue file write error\r\n");
  CHECK(s.messages() == 0);
  CHECK(s.errors() == 1);
  CHECK_FALSE(s.waiting());
  out.clear();
  s.feed("MAIL FROM:<a@c.example>\r\n");  // the transaction is over; a new one starts
  CHECK(out == "250 2.1.0 Ok\r\n");
}

TEST_CASE("a session that ends while its store is out leaves the store alone", "[smtpd]") {
  LaterSink sink;
  {
    Session s(settings(), sink, [](std::string_view) {});
    s.start();
    s.feed("HELO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nx\r\n.\r\n");
    REQUIRE(sink.pending.size() == 1);
  }
  CHECK_FALSE(sink.answer(0, {250, "2.0.0", "Ok"}));  // the Message is gone: nobody to tell
}

TEST_CASE("a timeout ends the session with 421 4.4.2 and stores nothing", "[smtpd]") {
  Run r;
  r.say("EHLO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  CHECK(r.session.receiving());
  r.say("Subject: half\r\n");
  CHECK(r.session.state_name() == "DATA (15 bytes)");
  const std::size_t at = r.out.size();
  r.session.timeout();
  CHECK(r.out.substr(at) == "421 4.4.2 mx.example Error: timeout exceeded\r\n");
  CHECK(r.session.finished());
  CHECK(r.sink.stored.empty());
  CHECK(r.sink.refusals.empty());  // not a refusal: no NOQUEUE line
  CHECK(r.say("\r\n.\r\n").empty());
  Run idle;
  CHECK(idle.session.state_name() == "CONNECT");
  idle.say("EHLO c\r\n");
  CHECK(idle.session.state_name() == "EHLO");
}

TEST_CASE("progress moves with complete lines and content, not with partial lines", "[smtpd]") {
  Run r;
  const auto p0 = r.session.progress();
  r.say("EHLO c");
  CHECK(r.session.progress() == p0);  // a command line still incomplete
  r.say("\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  const auto p1 = r.session.progress();
  CHECK(p1 == p0 + 4);
  r.say("partial line without end");
  CHECK(r.session.progress() > p1);  // content: every read counts
  CHECK(r.session.receiving());
  r.say("\r\n.\r\n");
  CHECK_FALSE(r.session.receiving());
}

TEST_CASE("BDAT transfers count as receiving until BDAT LAST", "[smtpd]") {
  Run r;
  r.say("EHLO c\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@example.org>\r\n");
  CHECK_FALSE(r.session.receiving());
  CHECK(r.say("BDAT 2\r\nab") == "250 2.0.0 Ok: 2 bytes\r\n");
  CHECK(r.session.receiving());  // between chunks
  CHECK(r.session.state_name() == "BDAT (2 bytes)");
  CHECK(r.say("BDAT 1 LAST\r\nc") == "250 2.0.0 Ok: queued as Q1\r\n");
  CHECK_FALSE(r.session.receiving());
  CHECK(r.session.state_name() == "END-OF-MESSAGE");
}

TEST_CASE("recipients beyond the limit count as errors only past the overshoot limit", "[smtpd]") {
  Settings s = settings();
  s.recipient_limit = 2;
  s.recipient_overshoot_limit = 3;
  s.hard_error_limit = 2;
  Run r(s);
  r.say("EHLO c\r\nMAIL FROM:<a@c.example>\r\n");
  std::string batch;
  for (int i = 0; i < 6; ++i) batch += "RCPT TO:<u" + std::to_string(i) + "@example.org>\r\n";
  const std::string out = r.say(batch);
  CHECK(out == "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
               "452 4.5.3 Error: too many recipients\r\n452 4.5.3 Error: too many recipients\r\n"
               "452 4.5.3 Error: too many recipients\r\n452 4.5.3 Error: too many recipients\r\n");
  CHECK(r.session.errors() == 1);  // the sixth only
  CHECK(r.sink.refusals == std::vector<int>{452});  // only the counted one is logged
  CHECK(r.say("DATA\r\n") == "354 End data with <CR><LF>.<CR><LF>\r\n");
  CHECK(r.say("x\r\n.\r\n") == "250 2.0.0 Ok: queued as Q1\r\n");
  REQUIRE(r.sink.stored.size() == 1);
  CHECK(r.sink.stored[0].env.recipients.size() == 2);
  // The overshoot count is per transaction.
  r.say("MAIL FROM:<a@c.example>\r\n");
  CHECK(r.say("RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n") ==
        "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n");
  CHECK(r.session.errors() == 1);
}

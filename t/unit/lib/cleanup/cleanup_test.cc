// Tests for lib/cleanup/cleanup.cc: streaming, header section, limits,
// added fields, recipient extraction and the commit into a real spool.
#include "lib/cleanup/cleanup.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include "lib/config/config.h"
#include "lib/queue/reader.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::cleanup;
using namespace std::string_literals;

namespace {

const auto kNow = std::chrono::system_clock::from_time_t(1795429725);  // 2026-11-23

queue::Envelope smtp_envelope(std::size_t rcpts = 1) {
  queue::Envelope e;
  e.sender = "alice@example.org";
  for (std::size_t i = 0; i < rcpts; ++i) {
    queue::Recipient r;
    r.address = "rcpt" + std::to_string(i) + "@example.net";
    e.recipients.push_back(r);
  }
  e.client = {"mail.example.org", "192.0.2.7", "helo.example.org", "ESMTPS", ""};
  return e;
}

CleanupSettings smtp_settings() {
  CleanupSettings s;
  s.myhostname = "mx.example.net";
  s.myorigin = "example.net";
  s.now = kNow;
  return s;
}

CleanupSettings local_settings() {
  CleanupSettings s = smtp_settings();
  s.origin = Origin::local;
  s.submitter_uid = 1000;
  return s;
}

queue::Envelope local_envelope() {
  queue::Envelope e;
  e.sender = "root";
  e.client.protocol = "local";
  return e;
}

// Runs `msg` through a Cleanup fed in one piece.
Cleanup run(std::string_view msg, CleanupSettings s = smtp_settings(),
            queue::Envelope e = smtp_envelope()) {
  Cleanup c(std::move(s), std::move(e));
  c.feed(msg);
  return c;
}

// The header section without the first (Received) field.
std::string after_received(const std::string& headers) {
  std::size_t pos = 0;
  while (true) {
    pos = headers.find("\r\n", pos) + 2;
    if (pos >= headers.size() || (headers[pos] != ' ' && headers[pos] != '\t')) break;
  }
  return headers.substr(pos);
}

const std::string kSample =
    "Subject: a test\r\n"
    "X-Folded: one\r\n"
    "\ttwo\n"
    "  three\r\n"
    "To: bob@example.net\r\n"
    "\r\n"
    "line with bare\rcr\r\n"
    ".\n"
    "..\r\n"
    "\x80\xff\x00 8-bit\r\n"
    "last line without end\r"s;

}  // namespace

TEST_CASE("cleanup stores the same message for any split of its input", "[cleanup]") {
  Cleanup whole = run(kSample);
  REQUIRE(whole.finish());
  for (std::size_t a = 0; a <= kSample.size(); ++a) {
    for (std::size_t b = a; b <= kSample.size(); b += 7) {
      Cleanup c(smtp_settings(), smtp_envelope());
      c.feed(kSample.substr(0, a));
      c.feed(kSample.substr(a, b - a));
      c.feed(kSample.substr(b));
      REQUIRE(c.finish());
      REQUIRE(c.headers() == whole.headers());
      REQUIRE(c.body() == whole.body());
      REQUIRE(c.observed().bare_cr == whole.observed().bare_cr);
      REQUIRE(c.observed().bare_lf == whole.observed().bare_lf);
    }
  }
  Cleanup bytewise(smtp_settings(), smtp_envelope());
  for (char ch : kSample) bytewise.feed(std::string_view(&ch, 1));
  REQUIRE(bytewise.finish());
  CHECK(bytewise.body() == whole.body());
  CHECK(bytewise.headers() == whole.headers());
}

TEST_CASE("cleanup normalises line ends to CRLF and reports bare CR and LF", "[cleanup]") {
  Cleanup c = run(kSample);
  REQUIRE(c.finish());
  CHECK(after_received(c.headers()) ==
        "Subject: a test\r\nX-Folded: one\r\n\ttwo\r\n  three\r\nTo: bob@example.net\r\n\r\n");
  CHECK(c.body() == "line with bare\rcr\r\n.\r\n..\r\n\x80\xff\x00 8-bit\r\n"
                    "last line without end\r\r\n"s);
  CHECK(c.observed().bare_lf == 2);
  CHECK(c.observed().bare_cr == 2);  // inside a line and the very last byte
  CHECK(c.observed().header_terminated);
  CHECK(c.observed().size == kSample.size());

  Cleanup clean = run("Subject: x\r\n\r\nbody\r\n.\r\n");
  REQUIRE(clean.finish());
  CHECK(clean.observed().bare_cr == 0);
  CHECK(clean.observed().bare_lf == 0);
  // A lone dot is an ordinary line here: end-of-data is smtpd's business.
  CHECK(clean.body() == "body\r\n.\r\n");
}

TEST_CASE("cleanup keeps a binary body byte for byte", "[cleanup]") {
  std::string body;
  for (int i = 0; i < 256; ++i)
    if (i != '\r' && i != '\n') body += static_cast<char>(i);
  body += "\r\n";
  Cleanup c = run("Subject: bin\r\n\r\n" + body + body);
  REQUIRE(c.finish());
  CHECK(c.body() == body + body);
}

TEST_CASE("cleanup applies message_size_limit exactly", "[cleanup]") {
  const std::string msg = "Subject: size\r\n\r\n0123456789\r\n";
  CleanupSettings s = smtp_settings();
  s.message_size_limit = msg.size();
  Cleanup at = run(msg, s);
  CHECK(at.finish());
  CHECK(at.status() == Status::ok);

  s.message_size_limit = msg.size() - 1;
  Cleanup past(s, smtp_envelope());
  past.feed(msg.substr(0, 5));
  past.feed(msg.substr(5));
  past.feed(std::string(100000, 'x'));  // still consumed after the limit
  auto r = past.finish();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::too_large);
  CHECK(past.status() == Status::too_big);
  CHECK(past.observed().size == msg.size() + 100000);
  CHECK(past.body().empty());
  Reply rep = smtp_reply(past.status());
  CHECK(rep.code == 552);
  CHECK(rep.enhanced == "5.3.4");

  s.message_size_limit = 0;  // no limit
  CHECK(run(std::string(200000, 'y'), s).finish());
}

TEST_CASE("cleanup refuses more Received headers than hopcount_limit", "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.hopcount_limit = 3;
  std::string three = "Received: from a\r\nReceived: from b\r\n\tby c\r\nreceived: from d\r\n";
  Cleanup ok = run(three + "\r\nbody\r\n", s);
  REQUIRE(ok.finish());
  CHECK(ok.observed().hops == 3);
  Cleanup loop = run(three + "RECEIVED: from e\r\n\r\nbody\r\n", s);
  REQUIRE_FALSE(loop.finish());
  CHECK(loop.status() == Status::too_many_hops);
  CHECK(smtp_reply(loop.status()).code == 554);
  CHECK(smtp_reply(loop.status()).enhanced == "5.4.6");
  // Received lines in the body are not hops.
  CHECK(run("Subject: x\r\n\r\n" + three + three, s).finish());
}

TEST_CASE("cleanup ends the header section at a line that is not a header", "[cleanup]") {
  struct Case {
    std::string in, headers, body;
    bool terminated;
  };
  const Case cases[] = {
      {"Subject: x\r\nhello world\r\nmore\r\n", "Subject: x\r\n\r\n", "hello world\r\nmore\r\n", false},
      {" leading blank\r\nSubject: x\r\n", "\r\n", " leading blank\r\nSubject: x\r\n", false},
      {"From sender Mon Nov 23\r\nSubject: x\r\n", "\r\n", "From sender Mon Nov 23\r\nSubject: x\r\n", false},
      {"Subject : obs blank\r\n\r\nb\r\n", "Subject : obs blank\r\n\r\n", "b\r\n", true},
      {":no name\r\n", "\r\n", ":no name\r\n", false},
      {"Bad\x01Name: x\r\n", "\r\n", "Bad\x01Name: x\r\n", false},
      {"Subject: no body", "Subject: no body\r\n\r\n", "", false},
      {"", "\r\n", "", false},
      {"\r\n", "\r\n", "", true},
  };
  for (const Case& c : cases) {
    Cleanup cl = run(c.in);
    REQUIRE(cl.finish());
    CHECK(after_received(cl.headers()) == c.headers);
    CHECK(cl.body() == c.body);
    CHECK(cl.observed().header_terminated == c.terminated);
  }
}

TEST_CASE("cleanup truncates a field longer than header_size_limit", "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.header_size_limit = 40;
  // Folded: continuation lines that do not fit are dropped whole.
  std::string folded = "X-Long: 0123456789\r\n 0123456789\r\n 0123456789\r\n 0123456789\r\n";
  Cleanup c = run(folded + "Subject: kept\r\n\r\nbody\r\n", s);
  REQUIRE(c.finish());
  CHECK(after_received(c.headers()) == "X-Long: 0123456789\r\n 0123456789\r\nSubject: kept\r\n\r\n");
  CHECK(c.observed().truncated_headers == 1);
  CHECK(c.status() == Status::ok);
  // One physical line longer than the limit is cut at the limit.
  Cleanup one = run("X-Line: " + std::string(100, 'a') + "\r\n\r\n", s);
  REQUIRE(one.finish());
  CHECK(after_received(one.headers()) == "X-Line: " + std::string(32, 'a') + "\r\n\r\n");
  CHECK(one.observed().truncated_headers == 1);
}

TEST_CASE("cleanup refuses more than max_header_count fields", "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.max_header_count = 5;
  std::string five;
  for (int i = 0; i < 5; ++i) five += "X-N: " + std::to_string(i) + "\r\n";
  CHECK(run(five + "\r\n", s).finish());
  Cleanup c = run(five + "X-N: 6\r\n\r\n", s);
  REQUIRE_FALSE(c.finish());
  CHECK(c.status() == Status::too_many_headers);
}

TEST_CASE("cleanup drops Bcc, Content-Length, Resent-Bcc and Return-Path", "[cleanup]") {
  Cleanup c = run(
      "Return-Path: <evil@example.com>\r\nBcc: hidden@example.net\r\n\tmore@example.net\r\n"
      "Content-Length: 5\r\nresent-bcc: x@y\r\nSubject: kept\r\n\r\nBcc: in body\r\n");
  REQUIRE(c.finish());
  CHECK(after_received(c.headers()) == "Subject: kept\r\n\r\n");
  CHECK(c.body() == "Bcc: in body\r\n");
}

TEST_CASE("cleanup adds Date, Message-ID and From only where Postfix does", "[cleanup]") {
  const std::string bare = "Subject: s\r\n\r\nbody\r\n";
  SECTION("remote SMTP: only Received") {
    Cleanup c = run(bare);
    REQUIRE(c.finish());
    CHECK(after_received(c.headers()) == "Subject: s\r\n\r\n");
    CHECK(c.message_id().empty());
  }
  SECTION("remote SMTP with always_add_missing_headers") {
    CleanupSettings s = smtp_settings();
    s.always_add_missing_headers = true;
    Cleanup c = run(bare, s);
    REQUIRE(c.finish());
    std::string h = after_received(c.headers());
    CHECK(h.find("\r\nDate: ") != std::string::npos);
    CHECK(h.find("\r\nMessage-ID: " + c.message_id() + "\r\n") != std::string::npos);
    CHECK(h.find("\r\nFrom: alice@example.org\r\n") != std::string::npos);
  }
  SECTION("local submission: all three, after the existing fields") {
    queue::Envelope e = local_envelope();
    e.recipients.push_back(queue::Recipient{});
    e.recipients.back().address = "bob";
    Cleanup c = run(bare, local_settings(), e);
    REQUIRE(c.finish());
    std::string h = after_received(c.headers());
    std::regex shape(
        "Subject: s\r\n"
        "Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} [A-Z][a-z]{2} 2026 "
        "[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\r\n"
        "Message-ID: <20261123[0-9]{6}\\.[0-9A-HJKMNP-TV-Z]{12}@mx\\.example\\.net>\r\n"
        "From: root@example\\.net\r\n\r\n");
    CHECK(std::regex_match(h, shape));
    CHECK(std::regex_match(c.message_id(), std::regex("<[0-9]{14}\\.[0-9A-Z]{12}@mx\\.example\\.net>")));
    // Bare envelope addresses are qualified with myorigin.
    CHECK(c.envelope().sender == "root@example.net");
    CHECK(c.envelope().recipients[0].address == "bob@example.net");
  }
  SECTION("local submission keeps the fields it has") {
    queue::Envelope e = local_envelope();
    e.recipients.push_back(queue::Recipient{});
    e.recipients.back().address = "bob@example.net";
    Cleanup c = run("From: Me <me@x.org>\r\ndate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                    "Message-Id:  <abc@x.org> \r\n\r\n",
                    local_settings(), e);
    REQUIRE(c.finish());
    CHECK(after_received(c.headers()) ==
          "From: Me <me@x.org>\r\ndate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
          "Message-Id:  <abc@x.org> \r\n\r\n");
    CHECK(c.message_id() == "<abc@x.org>");
  }
}

TEST_CASE("cleanup Message-IDs differ between messages", "[cleanup]") {
  CleanupSettings s = local_settings();
  queue::Envelope e = local_envelope();
  e.recipients.push_back(queue::Recipient{});
  e.recipients.back().address = "bob";
  Cleanup a = run("", s, e), b = run("", s, e);
  REQUIRE(a.finish());
  REQUIRE(b.finish());
  CHECK(a.message_id() != b.message_id());
}

TEST_CASE("cleanup From for sendmail -F and for the null sender", "[cleanup]") {
  queue::Envelope e = local_envelope();
  e.recipients.push_back(queue::Recipient{});
  e.recipients.back().address = "bob";
  CleanupSettings s = local_settings();
  s.full_name = "Root, The \"Admin\"\n";
  Cleanup c = run("", s, e);
  REQUIRE(c.finish());
  CHECK(c.headers().find("\r\nFrom: \"Root, The \\\"Admin\\\" \" <root@example.net>\r\n") !=
        std::string::npos);
  e.sender = "";
  s.full_name = "";
  Cleanup null = run("", s, e);
  REQUIRE(null.finish());
  CHECK(null.headers().find("\r\nFrom: MAILER-DAEMON@mx.example.net\r\n") != std::string::npos);
  CHECK(null.envelope().sender.empty());
}

TEST_CASE("cleanup Received field", "[cleanup]") {
  SECTION("SMTP with TLS, one recipient") {
    CleanupSettings s = smtp_settings();
    s.tls_info = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
    Cleanup c = run("", s);
    REQUIRE(c.finish());
    std::regex shape(
        "Received: from helo\\.example\\.org \\(mail\\.example\\.org \\[192\\.0\\.2\\.7\\]\\)\r\n"
        "\t\\(using TLSv1\\.3 with cipher TLS_AES_256_GCM_SHA384 \\(256/256 bits\\)\\)\r\n"
        "\tby mx\\.example\\.net \\(Posthorn\\) with ESMTPS\r\n"
        "\tfor <rcpt0@example\\.net>; [A-Z][a-z]{2}, [0-9]+ Nov 2026 [0-9:]{8} [+-][0-9]{4}\r\n\r\n");
    CHECK(std::regex_match(c.headers(), shape));
  }
  SECTION("two recipients: no for clause; hostile HELO; AUTH named when asked") {
    queue::Envelope e = smtp_envelope(2);
    e.client.helo = "evil)\r\n(x ü";
    e.client.sasl_user = "alice";
    e.client.protocol = "ESMTPSA";
    CleanupSettings s = smtp_settings();
    s.received_auth = true;
    Cleanup c = run("", s, e);
    REQUIRE(c.finish());
    std::regex shape(
        "Received: from evil\\?\\?\\?\\?x\\?\\?\\? \\(mail\\.example\\.org \\[192\\.0\\.2\\.7\\]\\)\r\n"
        "\t\\(Authenticated sender: alice\\)\r\n"
        "\tby mx\\.example\\.net \\(Posthorn\\) with ESMTPSA; [^\r\n]+\r\n\r\n");
    CHECK(std::regex_match(c.headers(), shape));
  }
  SECTION("local submission") {
    queue::Envelope e = local_envelope();
    e.recipients.push_back(queue::Recipient{});
    e.recipients.back().address = "bob";
    Cleanup c = run("Date: x\r\nFrom: y\r\nMessage-ID: <z>\r\n\r\n", local_settings(), e);
    REQUIRE(c.finish());
    std::regex shape("Received: by mx\\.example\\.net \\(Posthorn, from userid 1000\\);\r\n"
                     "\t[A-Z][a-z]{2}, [^\r\n]+\r\nDate: x\r\nFrom: y\r\nMessage-ID: <z>\r\n\r\n");
    CHECK(std::regex_match(c.headers(), shape));
  }
}

TEST_CASE("cleanup extracts recipients for sendmail -t", "[cleanup]") {
  CleanupSettings s = local_settings();
  s.extract_recipients = true;
  queue::Envelope e = local_envelope();
  e.recipients.push_back(queue::Recipient{});
  e.recipients.back().address = "cmdline@example.org";
  Cleanup c = run(
      "To: Bob <bob@example.org>, team: carol@example.org, dave;\r\n"
      "Cc: \"Eve\" <eve@example.org>,\r\n cmdline@example.org\r\n"
      "Bcc: hidden@example.org, undisclosed-recipients:;\r\n"
      "Subject: hi\r\n\r\nTo: notme@example.org\r\n",
      s, e);
  REQUIRE(c.finish());
  std::vector<std::string> got;
  for (const auto& r : c.envelope().recipients) got.push_back(r.address);
  CHECK(got == std::vector<std::string>{"cmdline@example.org", "bob@example.org",
                                        "carol@example.org", "dave@example.net",
                                        "eve@example.org", "hidden@example.org"});
  CHECK(c.headers().find("Bcc") == std::string::npos);
  CHECK(c.headers().find("hidden") == std::string::npos);

  SECTION("a malformed address list is refused") {
    Cleanup bad = run("To: <unterminated@example.org\r\n\r\n", s, local_envelope());
    auto r = bad.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::parse);
    CHECK(bad.status() == Status::bad_header);
    CHECK(smtp_reply(bad.status()).code == 550);
  }
  SECTION("no recipient anywhere") {
    Cleanup none = run("Subject: nobody\r\n\r\n", s, local_envelope());
    REQUIRE_FALSE(none.finish());
    CHECK(none.status() == Status::no_recipients);
  }
}

TEST_CASE("cleanup finish is idempotent and smtp_reply covers every status", "[cleanup]") {
  Cleanup c = run("Subject: x\r\n\r\n");
  REQUIRE(c.finish());
  std::string h = c.headers();
  REQUIRE(c.finish());
  CHECK(c.headers() == h);
  for (Status st : {Status::too_big, Status::too_many_hops, Status::too_many_headers,
                    Status::bad_header, Status::no_recipients, Status::write_error}) {
    Reply r = smtp_reply(st);
    CHECK(r.code >= 400);
    CHECK(r.enhanced.front() == (r.code >= 500 ? '5' : '4'));
    CHECK(status_name(st) != "ok");
  }
}

TEST_CASE("cleanup commits into a spool and the queue file reads back", "[cleanup]") {
  queue::test::ScratchDir dir;
  queue::Spool spool(dir.path());
  REQUIRE(queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}));
  Cleanup c(smtp_settings(), smtp_envelope(2));
  c.feed("Subject: stored\r\n\r\nline 1\nline 2\r\n");
  auto id = c.commit(spool);
  REQUIRE(id);
  auto qf = queue::read_queue_file(spool.file(queue::QueueName::incoming, *id));
  REQUIRE(qf);
  CHECK(qf->headers == c.headers());
  CHECK(qf->body == "line 1\r\nline 2\r\n");
  CHECK(qf->env.sender == "alice@example.org");
  CHECK(qf->env.recipients.size() == 2);
  CHECK(qf->env.client.helo == "helo.example.org");

  SECTION("a refused message writes nothing") {
    CleanupSettings s = smtp_settings();
    s.message_size_limit = 3;
    Cleanup big(s, smtp_envelope());
    big.feed("Subject: too big\r\n\r\n");
    REQUIRE_FALSE(big.commit(spool));
    CHECK(big.status() == Status::too_big);
  }
  SECTION("a write error is reported as such") {
    queue::Spool missing(dir.path() / "nonexistent");
    Cleanup w(smtp_settings(), smtp_envelope());
    w.feed("Subject: x\r\n\r\n");
    REQUIRE_FALSE(w.commit(missing));
    CHECK(w.status() == Status::write_error);
    CHECK(smtp_reply(w.status()).code == 451);
  }
}

TEST_CASE("cleanup qualifies a bare SMTP recipient such as postmaster", "[cleanup]") {
  queue::Envelope e = smtp_envelope();
  e.recipients[0].address = "postmaster";
  Cleanup c = run("Subject: x\r\n\r\n", smtp_settings(), e);
  REQUIRE(c.finish());
  CHECK(c.envelope().recipients[0].address == "postmaster@example.net");
  CHECK(c.envelope().sender == "alice@example.org");
  CHECK(c.headers().find("for <postmaster@example.net>") != std::string::npos);
}

TEST_CASE("cleanup settings from main.cf defaults", "[cleanup]") {
  config::Config cfg;
  CleanupSettings s = CleanupSettings::from_config(cfg);
  CHECK(s.message_size_limit == 10240000);
  CHECK(s.header_size_limit == 102400);
  CHECK(s.hopcount_limit == 100);
  CHECK_FALSE(s.always_add_missing_headers);
  CHECK_FALSE(s.received_auth);
  CHECK(s.mail_name == "Posthorn");
  CHECK(s.myorigin == s.myhostname);
  CHECK_FALSE(s.myhostname.empty());
}

TEST_CASE("cleanup keeps nothing after the field that refused the message", "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.hopcount_limit = 1;
  for (std::string next : {"not a header\r\n", "X-Next: 1\r\n", "\r\nbody\r\n"}) {
    Cleanup c = run("Received: a\r\nReceived: b\r\n" + next + "more body\r\n", s);
    REQUIRE_FALSE(c.finish());
    CHECK(c.status() == Status::too_many_hops);
    CHECK(c.body().empty());
    CHECK(c.headers().empty());
  }
}

TEST_CASE("cleanup answers too_big over an earlier refusal, for any split", "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.max_header_count = 1;
  s.message_size_limit = 30;
  const std::string msg = "X-A: 1\r\nX-B: 2\r\n\r\n" + std::string(40, 'z');
  for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
    Cleanup c(s, smtp_envelope());
    c.feed(msg.substr(0, cut));
    c.feed(msg.substr(cut));
    REQUIRE_FALSE(c.finish());
    REQUIRE(c.status() == Status::too_big);
  }
}

TEST_CASE("cleanup survives adversarial header sections", "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.header_size_limit = 1024;
  SECTION("a megabyte header line without a line end is cut, not kept whole") {
    Cleanup c = run("X-Huge: " + std::string(1 << 20, 'h'), s);
    REQUIRE(c.finish());
    CHECK(after_received(c.headers()) == "X-Huge: " + std::string(1016, 'h') + "\r\n\r\n");
    CHECK(c.observed().truncated_headers == 1);
  }
  SECTION("thousands of continuation lines") {
    std::string many = "X-Many: start\r\n";
    for (int i = 0; i < 5000; ++i) many += " x\r\n";
    Cleanup c = run(many + "\r\n", s);
    REQUIRE(c.finish());
    CHECK(after_received(c.headers()).size() <= 1024 + 4);
  }
  SECTION("NUL, 8-bit and bare CR in a header value are kept; the line end is normalised") {
    Cleanup c = run("X-Bin: a\0b\xe9\rc\n\n"s, s);
    REQUIRE(c.finish());
    CHECK(after_received(c.headers()) == "X-Bin: a\0b\xe9\rc\r\n\r\n"s);
    CHECK(c.observed().bare_cr == 1);
    CHECK(c.observed().bare_lf == 2);
  }
  SECTION("CR CR LF and LF CR LF") {
    Cleanup c = run("Subject: x\r\r\n\n\r\nbody\r\r\n"s, s);
    REQUIRE(c.finish());
    CHECK(after_received(c.headers()) == "Subject: x\r\r\n\r\n");
    CHECK(c.body() == "\r\nbody\r\r\n");
    CHECK(c.observed().bare_cr == 2);
    CHECK(c.observed().bare_lf == 1);
  }
}

TEST_CASE("cleanup holds no more than header_size_limit of a header line as it arrives",
          "[cleanup]") {
  CleanupSettings s = smtp_settings();
  s.header_size_limit = 1024;
  struct Case {
    std::string in, headers, body;
  };
  const std::string big(5000, 'h');
  const std::vector<Case> cases = {
      // A field: cut at the limit, the rest dropped as it arrives.
      {"X-Big: " + big + "\r\nSubject: s\r\n\r\nb\r\n",
       "X-Big: " + std::string(1017, 'h') + "\r\nSubject: s\r\n\r\n", "b\r\n"},
      // A continuation line past the limit: dropped whole, as fold_into_field() does.
      {"X-F: a\r\n " + big + "\r\nSubject: s\r\n\r\nb\r\n", "X-F: a\r\nSubject: s\r\n\r\n", "b\r\n"},
      // No field name within the limit: the first body line, kept whole.
      {"Subject: s\r\n" + big + "\r\nmore\r\n", "Subject: s\r\n\r\n", big + "\r\nmore\r\n"},
  };
  for (const Case& c : cases) {
    for (std::size_t cut : {std::size_t{1}, std::size_t{10}, std::size_t{900}, std::size_t{1030},
                            std::size_t{2000}, c.in.size()}) {
      INFO("cut " << cut << " of " << c.in.substr(0, 12));
      Cleanup x(s, smtp_envelope());
      for (std::size_t at = 0; at < c.in.size(); at += cut) {
        x.feed(std::string_view(c.in).substr(at, cut));
        CHECK(x.headers().size() + x.body().size() <= c.in.size());
      }
      REQUIRE(x.finish());
      CHECK(after_received(x.headers()) == c.headers);
      CHECK(x.body() == c.body);
    }
  }
}

// Tests for lib/bounce compose(): each notice is parsed back with lib/mime and
// checked field by field (RFC 3464, RFC 3461, RFC 6533).
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/bounce/bounce.h"
#include "lib/cleanup/added_headers.h"
#include "lib/mime/encoded_word.h"
#include "lib/queue/reader.h"
#include "lib/queue/writer.h"
#include "t/unit/lib/bounce/notice_check.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::bounce;
using posthorn::bounce::test::check_well_formed;
using posthorn::bounce::test::parse_notice;

namespace {

using Clock = std::chrono::system_clock;
const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1763809200));
constexpr std::int64_t kArrivalUs = 1763805600123456;

const std::string kHeaders =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net, carol@example.net\r\n"
    "Subject: Lunch\r\n"
    "Message-ID: <lunch@example.org>\r\n"
    "\r\n";
const std::string kBody = "Shall we?\r\n-- \r\nAlice\r\n";

queue::QueueFile original() {
  queue::QueueFile qf;
  qf.id = queue::QueueId(kArrivalUs, 4242);
  qf.env.sender = "alice@example.org";
  queue::Recipient bob;
  bob.address = "bob@example.net";
  bob.orcpt = "rfc822;Bob@Example.NET";
  queue::Recipient carol;
  carol.address = "carol@example.net";
  carol.original = "lunch-list@example.org";
  qf.env.recipients = {bob, carol};
  qf.env.arrival_us = kArrivalUs;
  qf.env.client = {"mail.example.org", "192.0.2.7", "mail.example.org", "ESMTP", ""};
  qf.env.envid = "QQ314159";
  qf.headers = kHeaders;
  qf.body = kBody;
  return qf;
}

Settings settings() {
  Settings s;
  s.myhostname = "mx.example.org";
  s.myorigin = "example.org";
  return s;
}

std::vector<DsnRecipient> failed_rcpts() {
  DsnRecipient bob;
  bob.address = "bob@example.net";
  bob.orcpt = "rfc822;Bob@Example.NET";
  bob.status = "5.1.1";
  bob.diagnostic =
      "host mx.example.net[192.0.2.25] said: 550 5.1.1 <bob@example.net>: Recipient address "
      "rejected: User unknown (in reply to RCPT TO command)";
  bob.remote_mta = "mx.example.net[192.0.2.25]:25";
  bob.last_attempt = 1763809100;
  DsnRecipient carol;
  carol.address = "carol@example.net";
  carol.original = "lunch-list@example.org";
  carol.status = "5.2.2";
  carol.diagnostic = "mailbox full";
  carol.remote_mta = "local";
  return {bob, carol};
}

std::string date(std::int64_t secs) {
  return cleanup::rfc5322_date(Clock::time_point(std::chrono::seconds(secs)));
}

}  // namespace

TEST_CASE("failure notice: every field of RFC 3464, the whole message returned", "[bounce][compose]") {
  queue::QueueFile qf = original();
  auto n = compose(qf, Kind::failure, failed_rcpts(), settings(), kNow);
  REQUIRE(n);
  auto p = parse_notice(*n);
  check_well_formed(*n, *p);

  // The envelope: from <> to the sender, never bouncing.
  CHECK(n->env.sender.empty());
  CHECK(n->env.recipients[0].address == "alice@example.org");
  CHECK_FALSE(n->env.smtputf8);
  CHECK(n->env.body_type == queue::BodyType::seven_bit);

  // The header section.
  CHECK(p->header.names() == std::vector<std::string>{"Date", "From", "Subject", "To",
                                                      "Auto-Submitted", "MIME-Version",
                                                      "Content-Type", "Message-ID"});
  CHECK(p->header.get("From") == "MAILER-DAEMON@mx.example.org (Mail Delivery System)");
  CHECK(p->header.get("To") == "alice@example.org");
  CHECK(p->header.get("Subject") == "Undelivered Mail Returned to Sender");
  CHECK(p->header.get("Date") == cleanup::rfc5322_date(kNow));
  CHECK_THAT(p->header.get("Message-ID"), Catch::EndsWith("@mx.example.org>"));
  CHECK(*p->msg.root().content_type.param("report-type") == "delivery-status");

  // 1. The human-readable part.
  CHECK(p->part_header(p->text).get("Content-Description") == "Notification");
  CHECK(*p->text->content_type.param("charset") == "us-ascii");
  std::string text(p->body(p->text));
  CHECK_THAT(text, Catch::StartsWith("This is the mail system at host mx.example.org.\r\n"));
  // Each reason is one paragraph, wrapped with an indent; unwrapped, it is
  // the whole reason as logged.
  std::string unwrapped;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t nl = text.find("\r\n    ", at);
    unwrapped += text.substr(at, nl == std::string::npos ? nl : nl - at);
    if (nl == std::string::npos) break;
    unwrapped += ' ';
    at = nl + 6;
  }
  CHECK_THAT(unwrapped, Catch::Contains("\r\n<bob@example.net>: " + failed_rcpts()[0].diagnostic + "\r\n"));
  for (const std::string& line : split(text, '\n')) CHECK(line.size() <= 79);
  CHECK_THAT(text, Catch::Contains(
                       "<carol@example.net> (expanded from <lunch-list@example.org>): mailbox full"));

  // 2. The delivery report.
  CHECK(p->type(p->report) == "message/delivery-status");
  CHECK(p->part_header(p->report).get("Content-Description") == "Delivery report");
  REQUIRE(p->groups.size() == 3);
  const auto& msg = p->groups[0];
  CHECK(msg.names() == std::vector<std::string>{"Original-Envelope-Id", "Reporting-MTA",
                                                "Arrival-Date", "X-Posthorn-Queue-ID",
                                                "X-Posthorn-Sender"});
  CHECK(msg.get("Original-Envelope-Id") == "QQ314159");
  CHECK(msg.get("Reporting-MTA") == "dns; mx.example.org");
  CHECK(msg.get("Arrival-Date") == date(kArrivalUs / 1000000));
  CHECK(msg.get("X-Posthorn-Queue-ID") == qf.id.str());
  CHECK(msg.get("X-Posthorn-Sender") == "rfc822; alice@example.org");

  const auto& bob = p->groups[1];
  CHECK(bob.names() == std::vector<std::string>{"Original-Recipient", "Final-Recipient", "Action",
                                                "Status", "Remote-MTA", "Diagnostic-Code",
                                                "Last-Attempt-Date"});
  CHECK(bob.get("Original-Recipient") == "rfc822; Bob@Example.NET");
  CHECK(bob.get("Final-Recipient") == "rfc822; bob@example.net");
  CHECK(bob.get("Action") == "failed");
  CHECK(bob.get("Status") == "5.1.1");
  CHECK(bob.get("Remote-MTA") == "dns; mx.example.net");
  CHECK(bob.get("Diagnostic-Code") ==
        "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown");
  CHECK(bob.get("Last-Attempt-Date") == date(1763809100));

  const auto& carol = p->groups[2];
  CHECK(carol.names() == std::vector<std::string>{"Original-Recipient", "Final-Recipient",
                                                  "Action", "Status", "Diagnostic-Code"});
  CHECK(carol.get("Original-Recipient") == "rfc822; lunch-list@example.org");
  CHECK(carol.get("Final-Recipient") == "rfc822; carol@example.net");
  CHECK(carol.get("Status") == "5.2.2");
  CHECK(carol.get("Diagnostic-Code") == "X-Posthorn; mailbox full");

  // 3. The whole message, byte for byte, parsed as a message.
  CHECK(p->type(p->returned) == "message/rfc822");
  CHECK(p->part_header(p->returned).get("Content-Description") == "Undelivered Message");
  CHECK(p->body(p->returned) == kHeaders + kBody);
  REQUIRE(p->returned->is_message());
  const mime::Part& inner = p->msg.parts[p->returned->children[0]];
  CHECK(bounce::test::fields_of(p->msg.header(inner)).get("Subject") == "Lunch");
}

TEST_CASE("what is returned: RET, kind, size, content", "[bounce][compose]") {
  const std::string headers_only = kHeaders.substr(0, kHeaders.size() - 2);
  struct Case {
    const char* name;
    Kind kind;
    queue::DsnRet ret;
    std::uint64_t limit;
    std::string body;
    queue::BodyType body_type;
    std::string type;
    std::string description;
    bool full;
  };
  const std::string nul_body("binary\0data\r\n", 13);
  const Case cases[] = {
      {"RET not given", Kind::failure, queue::DsnRet::unspecified, 50000, kBody,
       queue::BodyType::unspecified, "message/rfc822", "Undelivered Message", true},
      {"RET=FULL", Kind::failure, queue::DsnRet::full, 50000, kBody, queue::BodyType::seven_bit,
       "message/rfc822", "Undelivered Message", true},
      {"RET=HDRS", Kind::failure, queue::DsnRet::hdrs, 50000, kBody, queue::BodyType::seven_bit,
       "text/rfc822-headers", "Undelivered Message Headers", false},
      {"over bounce_size_limit", Kind::failure, queue::DsnRet::full,
       kHeaders.size() + kBody.size() - 1, kBody, queue::BodyType::seven_bit,
       "text/rfc822-headers", "Undelivered Message Headers", false},
      {"at bounce_size_limit", Kind::failure, queue::DsnRet::full, kHeaders.size() + kBody.size(),
       kBody, queue::BodyType::seven_bit, "message/rfc822", "Undelivered Message", true},
      {"BINARYMIME", Kind::failure, queue::DsnRet::full, 50000, kBody,
       queue::BodyType::binary_mime, "text/rfc822-headers", "Undelivered Message Headers", false},
      {"NUL in the body", Kind::failure, queue::DsnRet::full, 50000, nul_body,
       queue::BodyType::unspecified, "text/rfc822-headers", "Undelivered Message Headers", false},
      {"bare LF in the body", Kind::failure, queue::DsnRet::full, 50000, "a\nb\r\n",
       queue::BodyType::unspecified, "text/rfc822-headers", "Undelivered Message Headers", false},
      {"a line over 998 octets", Kind::failure, queue::DsnRet::full, 50000,
       std::string(999, 'x') + "\r\n", queue::BodyType::unspecified, "text/rfc822-headers",
       "Undelivered Message Headers", false},
      {"delay, RET=FULL", Kind::delay, queue::DsnRet::full, 50000, kBody,
       queue::BodyType::seven_bit, "text/rfc822-headers", "Delayed Message Headers", false},
      {"success, RET=FULL", Kind::success, queue::DsnRet::full, 50000, kBody,
       queue::BodyType::seven_bit, "text/rfc822-headers", "Delivered Message Headers", false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    queue::QueueFile qf = original();
    qf.env.ret = c.ret;
    qf.env.body_type = c.body_type;
    qf.body = c.body;
    Settings s = settings();
    s.bounce_size_limit = c.limit;
    auto n = compose(qf, c.kind, failed_rcpts(), s, kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(p->type(p->returned) == c.type);
    CHECK(p->part_header(p->returned).get("Content-Description") == c.description);
    if (c.full) CHECK(p->body(p->returned) == kHeaders + c.body);
    else CHECK(p->body(p->returned) == headers_only);
  }
}

TEST_CASE("a header section over bounce_size_limit is cut at a line end", "[bounce][compose]") {
  queue::QueueFile qf = original();
  qf.headers = "";
  for (int i = 0; i < 200; ++i) qf.headers += "Received: from relay" + std::to_string(i) + ".example\r\n";
  qf.headers += "\r\n";
  Settings s = settings();
  s.bounce_size_limit = 1000;
  auto n = compose(qf, Kind::failure, failed_rcpts(), s, kNow);
  REQUIRE(n);
  auto p = parse_notice(*n);
  check_well_formed(*n, *p);
  std::string_view returned = p->body(p->returned);
  CHECK(returned.size() <= 1000);
  CHECK(returned.size() > 900);
  CHECK(returned.ends_with(".example\r\n"));
  CHECK(qf.headers.starts_with(returned));
}

TEST_CASE("8-bit content is carried and declared", "[bounce][compose]") {
  queue::QueueFile qf = original();
  qf.env.body_type = queue::BodyType::eight_bit_mime;
  qf.body = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\r\n";
  auto n = compose(qf, Kind::failure, failed_rcpts(), settings(), kNow);
  REQUIRE(n);
  auto p = parse_notice(*n);
  check_well_formed(*n, *p);
  CHECK(n->env.body_type == queue::BodyType::eight_bit_mime);
  CHECK(p->header.get("Content-Transfer-Encoding") == "8bit");
  CHECK(p->part_header(p->returned).get("Content-Transfer-Encoding") == "8bit");
  CHECK(p->body(p->returned) == kHeaders + qf.body);
  // The report part stays ASCII outside RFC 6533.
  CHECK(p->part_header(p->report).count("Content-Transfer-Encoding") == 0);
}

TEST_CASE("SMTPUTF8 originals get RFC 6533 global types", "[bounce][compose]") {
  queue::QueueFile qf = original();
  qf.env.smtputf8 = true;
  qf.env.sender = "j\xc3\xb6rg@b\xc3\xbc" "cher.example";
  qf.headers = "From: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>\r\nSubject: Gr\xc3\xbc\xc3\x9f" "e\r\n\r\n";
  std::vector<DsnRecipient> rcpts = failed_rcpts();
  rcpts[0].address = "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.example";
  rcpts[0].orcpt = "utf-8;\\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.example";
  rcpts[0].diagnostic = "550 5.1.1 Benutzer \xc3\xbc" "nbekannt";
  SECTION("the full message as message/global") {
    auto n = compose(qf, Kind::failure, rcpts, settings(), kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(n->env.smtputf8);
    CHECK(n->env.recipients[0].address == qf.env.sender);
    CHECK(p->header.get("To") == qf.env.sender);
    CHECK(*p->msg.root().content_type.param("report-type") == "global-delivery-status");
    CHECK(p->type(p->report) == "message/global-delivery-status");
    CHECK(p->type(p->returned) == "message/global");
    CHECK(p->body(p->returned) == qf.headers + qf.body);
    CHECK(*p->text->content_type.param("charset") == "utf-8");
    CHECK_THAT(std::string(p->body(p->text)), Catch::Contains("<\xe7\x94\xa8\xe6\x88\xb7@"));
    REQUIRE(p->groups.size() == 3);
    CHECK(p->groups[0].get("X-Posthorn-Sender") == "utf-8; j\xc3\xb6rg@b\xc3\xbc" "cher.example");
    CHECK(p->groups[1].get("Final-Recipient") ==
          "utf-8; \xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.example");
    CHECK(p->groups[1].get("Original-Recipient") ==
          "utf-8; \\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.example");
    CHECK(p->groups[1].get("Diagnostic-Code") == "smtp; 550 5.1.1 Benutzer \xc3\xbc" "nbekannt");
    CHECK(p->part_header(p->report).get("Content-Transfer-Encoding") == "8bit");
  }
  SECTION("headers only as message/global-headers") {
    qf.env.ret = queue::DsnRet::hdrs;
    auto n = compose(qf, Kind::failure, rcpts, settings(), kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(p->type(p->returned) == "message/global-headers");
  }
  SECTION("without SMTPUTF8 the same addresses are written in ASCII") {
    qf.env.smtputf8 = false;
    qf.env.sender = "alice@example.org";
    qf.headers = kHeaders;
    auto n = compose(qf, Kind::failure, rcpts, settings(), kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK_FALSE(n->env.smtputf8);
    CHECK(p->type(p->report) == "message/delivery-status");
    CHECK(p->groups[1].get("Final-Recipient") ==
          "utf-8; \\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.example");
    CHECK(p->groups[1].get("Diagnostic-Code") == "smtp; 550 5.1.1 Benutzer ?nbekannt");
    CHECK_FALSE(bounce::test::has_8bit_octet(p->body(p->report)));
  }
}

TEST_CASE("delay and success notices", "[bounce][compose]") {
  queue::QueueFile qf = original();
  SECTION("delay") {
    std::vector<DsnRecipient> rcpts = failed_rcpts();
    rcpts.resize(1);
    rcpts[0].status = "4.4.1";
    rcpts[0].diagnostic = "connect to mx.example.net[192.0.2.25]:25: Connection refused";
    rcpts[0].will_retry_until = kArrivalUs / 1000000 + 5 * 86400;
    auto n = compose(qf, Kind::delay, rcpts, settings(), kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(p->header.get("Subject") == "Delayed Mail (still being retried)");
    CHECK_THAT(std::string(p->body(p->text)), Catch::Contains("ONLY A WARNING"));
    REQUIRE(p->groups.size() == 2);
    CHECK(p->groups[1].get("Action") == "delayed");
    CHECK(p->groups[1].get("Status") == "4.4.1");
    CHECK(p->groups[1].get("Will-Retry-Until") == date(kArrivalUs / 1000000 + 5 * 86400));
    CHECK(p->groups[1].get("Diagnostic-Code") ==
          "X-Posthorn; connect to mx.example.net[192.0.2.25]:25: Connection refused");
  }
  SECTION("success") {
    DsnRecipient r;
    r.address = "bob@example.net";
    r.status = "2.0.0";
    r.diagnostic = "delivered to maildir";
    r.remote_mta = "local";
    r.will_retry_until = 12345;  // not for a delivered recipient
    DsnRecipient relayed;
    relayed.address = "carol@example.net";
    relayed.action = "relayed";
    relayed.diagnostic = "250 2.0.0 Ok: queued as 4F2A1B";
    relayed.remote_mta = "mx.example.net[192.0.2.25]:25";
    auto n = compose(qf, Kind::success, {r, relayed}, settings(), kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(p->header.get("Subject") == "Successful Mail Delivery Report");
    REQUIRE(p->groups.size() == 3);
    CHECK(p->groups[1].get("Action") == "delivered");
    CHECK(p->groups[1].get("Status") == "2.0.0");
    CHECK(p->groups[1].count("Will-Retry-Until") == 0);
    CHECK(p->groups[1].count("Remote-MTA") == 0);
    CHECK(p->groups[2].get("Action") == "relayed");
    CHECK(p->groups[2].get("Status") == "2.0.0");  // not given: by action
    CHECK(p->groups[2].get("Remote-MTA") == "dns; mx.example.net");
    CHECK(p->groups[2].get("Diagnostic-Code") == "smtp; 250 2.0.0 Ok: queued as 4F2A1B");
  }
}

TEST_CASE("malformed statuses fall back to the action's class", "[bounce][compose]") {
  struct Case {
    std::string status, action, want;
  };
  const Case cases[] = {{"", "failed", "5.0.0"},      {"5.1", "failed", "5.0.0"},
                        {"x", "delayed", "4.0.0"},     {"", "delivered", "2.0.0"},
                        {"9.9.9", "expanded", "2.0.0"}, {"4.4.7", "failed", "4.4.7"}};
  for (const Case& c : cases) {
    DsnRecipient r;
    r.address = "bob@example.net";
    r.status = c.status;
    r.action = c.action;
    auto n = compose(original(), Kind::failure, {r}, settings(), kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    CHECK(p->groups[1].get("Status") == c.want);
    CHECK(p->groups[1].get("Action") == c.action);
  }
}

TEST_CASE("peer text cannot add fields or break the report", "[bounce][compose]") {
  queue::QueueFile qf = original();
  qf.env.envid = "ID\r\nBcc: eve@example.org";
  std::vector<DsnRecipient> rcpts = failed_rcpts();
  rcpts[0].diagnostic = "550 bad\r\nBcc: eve@example.org\r\n\r\n--boundary";
  rcpts[0].remote_mta = "evil\r\nX-Injected: 1[192.0.2.1]:25";
  rcpts[0].orcpt = "rfc822;x\r\nX-Injected: 2";
  rcpts[1].address = "carol@example.net\r\nX-Injected: 3";
  rcpts[1].original = "list\nX-Injected: 4";
  auto n = compose(qf, Kind::failure, rcpts, settings(), kNow);
  REQUIRE(n);
  auto p = parse_notice(*n);
  check_well_formed(*n, *p);
  REQUIRE(p->groups.size() == 3);
  for (const auto& g : p->groups) {
    CHECK(g.count("Bcc") == 0);
    CHECK(g.count("X-Injected") == 0);
  }
  CHECK(p->groups[0].get("Original-Envelope-Id") == "ID  Bcc: eve@example.org");
  CHECK(p->groups[1].get("Diagnostic-Code") == "smtp; 550 bad  Bcc: eve@example.org    --boundary");
  std::string text(p->body(p->text));
  CHECK(text.find("\r\nBcc:") == std::string::npos);
  CHECK(text.find("\r\nX-Injected") == std::string::npos);
}

TEST_CASE("the boundary is found in no part", "[bounce][compose]") {
  // Compose once to learn the boundary, then put it into the message.
  auto first = compose(original(), Kind::failure, failed_rcpts(), settings(), kNow);
  REQUIRE(first);
  auto p1 = parse_notice(*first);
  std::string boundary = *p1->msg.root().content_type.param("boundary");
  queue::QueueFile qf = original();
  qf.body = "--" + boundary + "\r\n--" + boundary + ".1--\r\n";
  auto n = compose(qf, Kind::failure, failed_rcpts(), settings(), kNow);
  REQUIRE(n);
  auto p = parse_notice(*n);
  check_well_formed(*n, *p);
  std::string b2 = *p->msg.root().content_type.param("boundary");
  CHECK(b2 != boundary);
  CHECK(b2.size() <= 70);
  CHECK(qf.body.find(b2) == std::string::npos);
  CHECK(p->body(p->returned) == kHeaders + qf.body);
}

TEST_CASE("refusals: no notice to <>, to double-bounce, or without recipients", "[bounce][compose]") {
  struct Case {
    const char* name;
    std::string sender;
    std::vector<DsnRecipient> rcpts;
  };
  DsnRecipient bad_action;
  bad_action.address = "bob@example.net";
  bad_action.action = "bounced";
  DsnRecipient no_address;
  const Case cases[] = {
      {"null sender", "", failed_rcpts()},
      {"double-bounce", "double-bounce", failed_rcpts()},
      {"double-bounce@myorigin", "Double-Bounce@example.org", failed_rcpts()},
      {"double-bounce@myhostname", "double-bounce@mx.example.org", failed_rcpts()},
      {"sender with CR LF", "alice@example.org\r\nBcc: eve@example.org", failed_rcpts()},
      {"no recipients", "alice@example.org", {}},
      {"a bad action", "alice@example.org", {bad_action}},
      {"a recipient without address", "alice@example.org", {no_address}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    queue::QueueFile qf = original();
    qf.env.sender = c.sender;
    auto n = compose(qf, Kind::failure, c.rcpts, settings(), kNow);
    REQUIRE_FALSE(n);
    CHECK(n.error().code == Errc::invalid);
  }
  queue::QueueFile other = original();
  other.env.sender = "double-bounce@elsewhere.example";  // another system's: answered
  CHECK(compose(other, Kind::failure, failed_rcpts(), settings(), kNow));
}

TEST_CASE("postmaster notices: 2bounce and copies", "[bounce][compose]") {
  Settings s = settings();
  s.double_bounce_notice_recipient = "hostmaster";
  s.bounce_notice_recipient = "bounces@admin.example.org";
  SECTION("an undeliverable notice goes to 2bounce_notice_recipient, whole") {
    auto notice = compose(original(), Kind::failure, failed_rcpts(), s, kNow);
    REQUIRE(notice);
    // The notice as qmgr would have queued it, now failing itself.
    queue::QueueFile bounced;
    bounced.id = queue::QueueId(kArrivalUs + 60000000, 77);
    bounced.env = notice->env;
    bounced.env.arrival_us = kArrivalUs + 60000000;
    bounced.headers = notice->headers;
    bounced.body = notice->body;
    DsnRecipient r;
    r.address = "alice@example.org";
    r.status = "5.1.1";
    r.diagnostic = "550 5.1.1 no such user";
    auto refused = compose(bounced, Kind::failure, {r}, s, kNow);
    REQUIRE_FALSE(refused);  // a bounce is never bounced
    auto n = compose_postmaster_notice(bounced, Kind::failure, {r}, s, kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(n->env.sender == "double-bounce@example.org");
    CHECK(n->env.recipients[0].address == "hostmaster@example.org");
    CHECK(p->header.get("Subject") == "Postmaster Copy: Undelivered Mail");
    CHECK(p->type(p->returned) == "message/rfc822");
    CHECK(p->body(p->returned) == notice->headers + notice->body);
    CHECK(p->groups[0].count("X-Posthorn-Sender") == 0);
    CHECK_THAT(std::string(p->body(p->text)), Catch::StartsWith("This is a copy for the postmaster"));
    // And when that one fails too, nothing more is said.
    queue::QueueFile twice;
    twice.id = queue::QueueId(kArrivalUs + 120000000, 78);
    twice.env = n->env;
    twice.headers = n->headers;
    twice.body = n->body;
    DsnRecipient pm;
    pm.address = "hostmaster@example.org";
    CHECK_FALSE(compose(twice, Kind::failure, {pm}, s, kNow));
    CHECK_FALSE(compose_postmaster_notice(twice, Kind::failure, {pm}, s, kNow));
  }
  SECTION("a copy of a failure notice has the headers only") {
    auto n = compose_postmaster_notice(original(), Kind::failure, failed_rcpts(), s, kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(n->env.recipients[0].address == "bounces@admin.example.org");
    CHECK(p->type(p->returned) == "text/rfc822-headers");
    CHECK_THAT(std::string(p->body(p->text)), Catch::Contains("<alice@example.org>"));
  }
  SECTION("a copy of a delay notice") {
    auto n = compose_postmaster_notice(original(), Kind::delay, failed_rcpts(), s, kNow);
    REQUIRE(n);
    auto p = parse_notice(*n);
    check_well_formed(*n, *p);
    CHECK(n->env.recipients[0].address == "postmaster@example.org");
    CHECK(p->header.get("Subject") == "Postmaster Warning: Delayed Mail");
  }
  SECTION("no copies of success notices") {
    auto n = compose_postmaster_notice(original(), Kind::success, failed_rcpts(), s, kNow);
    REQUIRE_FALSE(n);
    CHECK(n.error().code == Errc::invalid);
  }
}

TEST_CASE("wants(): RFC 3461 NOTIFY with Postfix's default", "[bounce][compose]") {
  using namespace posthorn::queue;
  struct Case {
    std::uint8_t notify;
    bool failure, delay, success;
  };
  const Case cases[] = {
      {0, true, true, false},
      {kNotifyNever, false, false, false},
      {kNotifySuccess, false, false, true},
      {kNotifyFailure, true, false, false},
      {kNotifyDelay, false, true, false},
      {kNotifySuccess | kNotifyFailure, true, false, true},
      {kNotifySuccess | kNotifyFailure | kNotifyDelay, true, true, true},
  };
  for (const Case& c : cases) {
    INFO(static_cast<int>(c.notify));
    CHECK(wants(c.notify, Kind::failure) == c.failure);
    CHECK(wants(c.notify, Kind::delay) == c.delay);
    CHECK(wants(c.notify, Kind::success) == c.success);
  }
}

TEST_CASE("postmaster_wants() follows notify_classes", "[bounce][compose]") {
  Settings s = settings();
  queue::QueueFile normal = original();
  queue::QueueFile notice = original();
  notice.env.sender = "";
  queue::QueueFile from_db = original();
  from_db.env.sender = "double-bounce@example.org";
  s.notify_classes = {"resource", "software"};  // the default: nothing of these
  CHECK_FALSE(postmaster_wants(s, normal, Kind::failure));
  CHECK_FALSE(postmaster_wants(s, notice, Kind::failure));
  s.notify_classes = {"2bounce"};
  CHECK(postmaster_wants(s, notice, Kind::failure));
  CHECK_FALSE(postmaster_wants(s, normal, Kind::failure));
  CHECK_FALSE(postmaster_wants(s, notice, Kind::delay));
  s.notify_classes = {"BOUNCE", "delay"};
  CHECK(postmaster_wants(s, normal, Kind::failure));
  CHECK(postmaster_wants(s, normal, Kind::delay));
  CHECK_FALSE(postmaster_wants(s, normal, Kind::success));
  CHECK_FALSE(postmaster_wants(s, from_db, Kind::failure));
  s.notify_classes = {"bounce", "2bounce", "delay"};
  CHECK_FALSE(postmaster_wants(s, from_db, Kind::failure));
}

TEST_CASE("dsn_recipient() from a queue recipient and its reason", "[bounce][compose]") {
  queue::Recipient r;
  r.address = "bob@example.net";
  r.original = "bobby@example.org";
  r.orcpt = "rfc822;bobby@example.org";
  queue::Reason why{1763809100, 0, "4.4.1", "mx.example.net[192.0.2.25]:25", "bob@example.net",
                    "connect to mx.example.net[192.0.2.25]:25: Connection timed out"};
  DsnRecipient d = dsn_recipient(r, why, Kind::delay);
  CHECK(d.address == r.address);
  CHECK(d.original == r.original);
  CHECK(d.orcpt == r.orcpt);
  CHECK(d.action == "delayed");
  CHECK(d.status == "4.4.1");
  CHECK(d.remote_mta == why.relay);
  CHECK(d.diagnostic == why.text);
  CHECK(d.last_attempt == 1763809100);
  CHECK(dsn_recipient(r, why, Kind::failure).action == "failed");
  CHECK(dsn_recipient(r, why, Kind::success).action == "delivered");
}

TEST_CASE("a notice is a queue file qmgr can write and read back", "[bounce][compose]") {
  posthorn::test::TempDir dir("bounce-spool");
  queue::Spool spool(dir.path());
  REQUIRE(queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}));
  queue::QueueFile qf = original();
  qf.env.smtputf8 = true;
  qf.body = "8-bit: \xc3\xa9\r\n";
  auto n = compose(qf, Kind::failure, failed_rcpts(), settings(), kNow);
  REQUIRE(n);
  auto id = queue::write_queue_file(spool, n->env, n->headers, n->body);
  REQUIRE(id);
  auto back = queue::load_queue_file(spool, queue::QueueName::incoming, *id);
  REQUIRE(back);
  CHECK(back->env.sender.empty());
  CHECK(back->env.recipients[0].address == "alice@example.org");
  CHECK(back->env.recipients[0].notify == queue::kNotifyNever);
  CHECK(back->env.smtputf8);
  CHECK(back->env.body_type == queue::BodyType::eight_bit_mime);
  CHECK(back->headers == n->headers);
  CHECK(back->body == n->body);
}

TEST_CASE("templates from bounce_template_file shape the notice", "[bounce][compose]") {
  Settings s = settings();
  s.failure.charset = "utf-8";
  s.failure.from = "POSTMEISTER (Mail-System)";
  s.failure.subject = "Unzustellbar: zur\xc3\xbc" "ck an den Absender";
  s.failure.text = "Leider konnte Ihre Nachricht nicht zugestellt werden.\n\nIhr Mailsystem\n";
  auto n = compose(original(), Kind::failure, failed_rcpts(), s, kNow);
  REQUIRE(n);
  auto p = parse_notice(*n);
  check_well_formed(*n, *p);
  CHECK(p->header.get("From") == "POSTMEISTER@mx.example.org (Mail-System)");
  std::string subject = p->header.get("Subject");
  CHECK_THAT(subject, Catch::StartsWith("=?utf-8?B?"));
  CHECK(mime::decode_header_text(subject) == s.failure.subject);
  CHECK(*p->text->content_type.param("charset") == "utf-8");
  CHECK_THAT(std::string(p->body(p->text)),
             Catch::StartsWith("Leider konnte Ihre Nachricht nicht zugestellt werden.\r\n\r\n"
                               "Ihr Mailsystem\r\n\r\n<bob@example.net>: "));

  // Another charset: its octets are kept and labelled, peer text stays ASCII.
  s.delay.charset = "iso-8859-1";
  s.delay.subject = "Verz\xf6gert";
  s.delay.text = "Ihre Nachricht ist verz\xf6gert.\n";
  std::vector<DsnRecipient> rcpts = failed_rcpts();
  rcpts[0].diagnostic = "452 4.2.2 Postfach \xc3\xbc" "berf\xc3\xbcllt";
  auto d = compose(original(), Kind::delay, rcpts, s, kNow);
  REQUIRE(d);
  auto pd = parse_notice(*d);
  check_well_formed(*d, *pd);
  CHECK(mime::decode_header_text(pd->header.get("Subject")) == "Verz\xc3\xb6gert");
  CHECK(*pd->text->content_type.param("charset") == "iso-8859-1");
  CHECK_THAT(std::string(pd->body(pd->text)), Catch::StartsWith("Ihre Nachricht ist verz\xf6gert.\r\n"));
  CHECK_THAT(std::string(pd->body(pd->text)), Catch::Contains("452 4.2.2 Postfach ?berf?llt"));
}

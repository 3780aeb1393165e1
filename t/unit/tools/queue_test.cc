// Tests of `posthorn queue`'s pure parts: the command line, the selectors and
// the output formats (tools/posthorn/queue_select.h, queue_format.h).
#include <stdlib.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/strings.h"
#include "tools/posthorn/queue_format.h"
#include "tools/posthorn/queue_select.h"

using namespace posthorn;
using namespace posthorn::tools::queue_cmd;
using posthorn::queue::QueueId;
using posthorn::queue::QueueName;
using posthorn::queue::RcptState;

namespace {

// Local time is UTC while a test needs it, so the formats are golden.
struct UtcClock {
  std::optional<std::string> saved;
  UtcClock() {
    if (const char* tz = ::getenv("TZ")) saved = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcClock() {
    if (saved) ::setenv("TZ", saved->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
};

constexpr std::int64_t kArrival = 1795428000;  // Mon Nov 23 10:00:00 2026 UTC

queue::Recipient rcpt(std::string addr, RcptState state = RcptState::pending, std::string orig = "") {
  queue::Recipient r;
  r.address = std::move(addr);
  r.original = std::move(orig);
  r.status.state = state;
  return r;
}

queue::Envelope envelope(std::string sender, std::vector<queue::Recipient> rcpts,
                         std::int64_t arrival = kArrival) {
  queue::Envelope e;
  e.sender = std::move(sender);
  e.recipients = std::move(rcpts);
  e.arrival_us = arrival * 1000000;
  return e;
}

Message message(QueueName q, queue::Envelope env, std::uint64_t size,
                std::vector<queue::Reason> defer = {}) {
  Message m;
  m.queue = q;
  m.envelope.id = QueueId(static_cast<std::uint64_t>(kArrival) * 1000000, 4242);
  m.envelope.env = std::move(env);
  m.envelope.message_size = size;
  m.defer = std::move(defer);
  return m;
}

queue::Reason reason(std::uint32_t index, std::string text) {
  return {kArrival + 60, index, "4.4.1", "mx.example.net[192.0.2.1]:25", "", std::move(text)};
}

Args parse_ok(const std::vector<std::string>& words, std::optional<Verb> preset = {}) {
  auto a = parse_args(words, preset);
  if (!a) FAIL(a.error().detail);
  return *a;
}

const std::string kId = QueueId(static_cast<std::uint64_t>(kArrival) * 1000000, 4242).str();
const std::string kIndent(41, ' ');

}  // namespace

TEST_CASE("queue command lines parse into verb, selectors and operands", "[tools][queue]") {
  Args a = parse_ok({"list", "--json", "--from", "<alice@example.org>", "--to=Bob@Example.NET",
                     "--domain", "@example.net.", "--older-than", "2h", "--queue", "deferred,hold",
                     "--queue=deferred"});
  CHECK(a.verb == Verb::list);
  CHECK(a.json);
  CHECK(a.select.from == "alice@example.org");
  CHECK(a.select.to == "Bob@Example.NET");
  CHECK(a.select.domain == "example.net");
  CHECK(a.select.older_than == 7200);
  CHECK(a.select.queues == std::vector<QueueName>{QueueName::deferred, QueueName::hold});

  Args d = parse_ok({"-c", "/etc/x", "delete", kId + "*", "--", kId + "!"});
  CHECK(d.verb == Verb::remove);
  CHECK(d.config_dir == "/etc/x");
  REQUIRE(d.ids.size() == 2);
  CHECK(d.ids[0].str() == kId);
  CHECK(d.ids[1].str() == kId);

  CHECK(parse_ok({"list", "-c/etc/y"}).config_dir == "/etc/y");
  CHECK(parse_ok({"hold", "ALL"}).all);
  CHECK(parse_ok({"requeue", "-"}).ids_from_stdin);
  CHECK(parse_ok({"delete", "--from", "<>"}).select.from == "");
  CHECK(parse_ok({"show", "--headers", "--body", kId}).parts.body);
  CHECK(parse_ok({"--help"}).help);
  CHECK(parse_ok({"delete", "--help"}).help);
  // `posthorn flush`: the verb is given, every word is an option or operand.
  Args f = parse_ok({"--domain", "example.net"}, Verb::flush);
  CHECK(f.verb == Verb::flush);
  CHECK(f.select.domain == "example.net");
  CHECK(parse_ok({}, Verb::flush).ids.empty());
  CHECK(parse_ok({"list"}).ids.empty());
}

TEST_CASE("queue command lines that are refused say why", "[tools][queue]") {
  struct Case {
    std::vector<std::string> words;
    std::string error;
  };
  const Case cases[] = {
      {{}, "expected a command"},
      {{"frobnicate"}, "unknown command \"frobnicate\""},
      {{"list", "--bogus"}, "unknown option --bogus"},
      {{"list", "--from"}, "option --from needs a value"},
      {{"list", "--json=yes"}, "option --json takes no value"},
      {{"list", "-c"}, "option -c needs a directory"},
      {{"list", "--older-than", "soon"}, "--older-than: \"soon\" is not a duration"},
      {{"list", "--queue", "maildrop"}, "--queue: \"maildrop\" is not a queue"},
      {{"list", "--queue", ","}, "--queue needs a queue name"},
      {{"list", "--to", "<>"}, "--to needs an address"},
      {{"list", "--domain", "@"}, "--domain needs a domain"},
      {{"delete", "1234"}, "\"1234\" is not a queue ID"},
      {{"delete"}, "delete needs queue IDs, ALL or a selector"},
      {{"hold"}, "hold needs queue IDs, ALL or a selector"},
      {{"show"}, "show needs queue IDs, ALL or a selector"},
      {{"delete", "ALL", kId}, "ALL and queue IDs do not mix"},
      {{"show", "--json", kId}, "--json is for list only"},
      {{"list", "--body"}, "--envelope, --headers and --body are for show only"},
      {{"release", "--queue", "deferred", "ALL"}, "release does not act on deferred mail (it takes --queue hold)"},
      {{"hold", "--queue", "hold", "ALL"}, "hold does not act on hold mail"},
      {{"requeue", "--queue", "incoming", "ALL"}, "requeue does not act on incoming mail"},
      {{"flush", "--queue", "active"}, "flush does not act on active mail (it takes --queue deferred)"},
  };
  for (const Case& c : cases) {
    auto a = parse_args(c.words);
    INFO(join(c.words, " "));
    REQUIRE_FALSE(a);
    CHECK(a.error().code == Errc::invalid);
    CHECK_THAT(a.error().detail, Catch::Contains(c.error));
  }
}

TEST_CASE("durations, queue names and ID operands", "[tools][queue]") {
  const std::pair<std::string, long long> good[] = {
      {"45", 45}, {"45s", 45}, {"30m", 1800}, {"2h", 7200}, {"3d", 259200}, {"1w", 604800}, {"0", 0}};
  for (const auto& [text, seconds] : good) CHECK(parse_duration(text).value() == seconds);
  for (const char* bad : {"", "m", "-5m", "5x", "1.5h", "99999999999999999999"})
    CHECK_FALSE(parse_duration(bad));
  CHECK(parse_queue_name("deferred").value() == QueueName::deferred);
  CHECK_FALSE(parse_queue_name("corrupt"));
  CHECK_FALSE(parse_queue_name("Deferred"));
  CHECK(parse_id_operand(kId + "*").value().str() == kId);
  CHECK_FALSE(parse_id_operand(kId + "**"));
  CHECK_FALSE(parse_id_operand("*"));
  CHECK_FALSE(parse_id_operand(kId + "?"));
}

TEST_CASE("each verb has its queues, in Postfix's order", "[tools][queue]") {
  using Q = QueueName;
  CHECK(default_queues(Verb::list) == std::vector<Q>{Q::incoming, Q::active, Q::deferred, Q::hold});
  CHECK(default_queues(Verb::remove) == default_queues(Verb::list));
  CHECK(default_queues(Verb::hold) == std::vector<Q>{Q::incoming, Q::active, Q::deferred});
  CHECK(default_queues(Verb::release) == std::vector<Q>{Q::hold});
  CHECK(default_queues(Verb::requeue) == std::vector<Q>{Q::active, Q::deferred, Q::hold});
  CHECK(default_queues(Verb::flush) == std::vector<Q>{Q::deferred});
  for (Verb v : {Verb::list, Verb::show, Verb::remove, Verb::hold, Verb::release, Verb::requeue,
                 Verb::flush})
    CHECK(parse_verb(verb_name(v)) == v);
}

TEST_CASE("selectors match sender, live recipients, domains and age", "[tools][queue]") {
  const std::int64_t now = kArrival + 3600;  // the message is an hour old
  queue::Envelope e = envelope("Alice@Example.org", {rcpt("bob@example.net", RcptState::deferred),
                                                     rcpt("carol@example.com", RcptState::delivered),
                                                     rcpt("dave@sub.example.net", RcptState::pending,
                                                          "list@example.org")});
  queue::Envelope bounce = envelope("", {rcpt("alice@example.org")});
  struct Case {
    std::vector<std::string> words;  // selectors, after "list"
    bool matches_e, matches_bounce;
  };
  const Case cases[] = {
      {{}, true, true},
      {{"--from", "alice@example.org"}, true, false},
      {{"--from", "ALICE@EXAMPLE.ORG"}, true, false},
      {{"--from", "alice@example.com"}, false, false},
      {{"--from", "@example.org"}, true, false},
      {{"--from", "@EXAMPLE.org."}, true, false},
      {{"--from", "<>"}, false, true},
      {{"--from", ""}, false, true},
      {{"--from", "mailer-daemon"}, false, true},
      {{"--to", "bob@example.net"}, true, false},
      {{"--to", "<BOB@example.net>"}, true, false},
      {{"--to", "carol@example.com"}, false, false},  // delivered: nothing left to do
      {{"--to", "list@example.org"}, true, false},    // the original address counts
      {{"--to", "alice@example.org"}, false, true},
      {{"--domain", "example.net"}, true, false},
      {{"--domain", "EXAMPLE.NET"}, true, false},
      {{"--domain", "sub.example.net"}, true, false},
      {{"--domain", "example.com"}, false, false},     // only carol, who is done
      {{"--domain", "example.org"}, false, true},
      {{"--older-than", "59m"}, true, true},
      {{"--older-than", "1h"}, false, false},          // "more than": not exactly an hour
      {{"--older-than", "2h"}, false, false},
      {{"--from", "alice@example.org", "--domain", "example.net"}, true, false},
      {{"--from", "alice@example.org", "--domain", "example.org"}, false, false},
      {{"--queue", "hold"}, true, true},               // queues are chosen by the caller
  };
  for (const Case& c : cases) {
    std::vector<std::string> words{"list"};
    words.insert(words.end(), c.words.begin(), c.words.end());
    INFO(join(words, " "));
    Args a = parse_ok(words);
    CHECK(matches(a.select, e, now) == c.matches_e);
    CHECK(matches(a.select, bounce, now) == c.matches_bounce);
  }
  CHECK_FALSE(parse_ok({"list", "--queue", "hold"}).select.needs_envelope());
  CHECK(parse_ok({"list", "--older-than", "1d"}).select.needs_envelope());
}

TEST_CASE("list prints Postfix's mailq format exactly", "[tools][queue][format]") {
  UtcClock utc;
  CHECK(mailq_heading() == "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
  CHECK(arrival_text(kArrival) == "Mon Nov 23 10:00:00");
  CHECK(arrival_text(kArrival + 86400 * 10) == "Thu Dec  3 10:00:00");

  // Active, null sender, one recipient without a reason.
  Message active = message(QueueName::active, envelope("", {rcpt("alice@example.org")}), 412);
  CHECK(mailq_message(active) ==
        kId + "*     412 Mon Nov 23 10:00:00  MAILER-DAEMON\n" + kIndent + "alice@example.org\n");

  // Deferred: a shared reason printed once, a done recipient left out, a
  // recipient without a reason after one with, and a reason too long to pad.
  std::string refused = "connect to mx.example.net[192.0.2.1]:25: Connection refused";
  std::string long_text(90, 'z');
  Message deferred = message(
      QueueName::deferred,
      envelope("bob@example.net", {rcpt("a@example.net", RcptState::deferred),
                                   rcpt("b@example.net", RcptState::deferred),
                                   rcpt("c@example.net", RcptState::delivered),
                                   rcpt("d@example.net", RcptState::bounced),
                                   rcpt("e@example.net"), rcpt("f@example.net", RcptState::deferred)}),
      1234567,
      {reason(0, refused), reason(1, refused), reason(2, "old"), reason(5, long_text)});
  CHECK(mailq_message(deferred) ==
        kId + " 1234567 Mon Nov 23 10:00:00  bob@example.net\n" +
            std::string(76 - refused.size(), ' ') + "(" + refused + ")\n" +
            kIndent + "a@example.net\n" + kIndent + "b@example.net\n" +
            std::string(76 - 18, ' ') + "(reason unavailable)\n" + kIndent + "e@example.net\n" +
            "(" + long_text + ")\n" + kIndent + "f@example.net\n");

  // Hold; control characters and invalid UTF-8 shown as '?', UTF-8 kept.
  Message held = message(QueueName::hold,
                         envelope("j\xc3\xb6rg@example.org", {rcpt("x\ry@example.net"),
                                                               rcpt("bad\xff@example.net")}),
                         5);
  CHECK(mailq_message(held) == kId + "!       5 Mon Nov 23 10:00:00  j\xc3\xb6rg@example.org\n" +
                                   kIndent + "x?y@example.net\n" + kIndent + "bad?@example.net\n");
}

TEST_CASE("list ends with Postfix's trailer", "[tools][queue][format]") {
  CHECK(mailq_trailer(0, 0) == "Mail queue is empty\n");
  CHECK(mailq_trailer(1, 1023) == "\n-- 0 Kbytes in 1 Request.\n");
  CHECK(mailq_trailer(2, 2048) == "\n-- 2 Kbytes in 2 Requests.\n");
  CHECK(mailq_trailer(10000, 30720000) == "\n-- 30000 Kbytes in 10000 Requests.\n");
}

TEST_CASE("list --json prints one object per message", "[tools][queue][format]") {
  Message m = message(QueueName::deferred,
                      envelope("", {rcpt("a@example.net", RcptState::deferred, "alias@example.org"),
                                    rcpt("b@example.net", RcptState::bounced),
                                    rcpt("c@example.net", RcptState::delivered)}),
                      300, {reason(0, "try \"later\"\\now"), reason(2, "stale")});
  m.envelope.env.recipients[0].status.attempts = 3;
  m.envelope.env.recipients[0].status.last_attempt = kArrival + 60;
  m.envelope.env.recipients[0].status.next_attempt = kArrival + 660;
  m.bounce = {reason(1, "550 no such user")};
  CHECK(json_message(m) ==
        "{\"queue_name\": \"deferred\", \"queue_id\": \"" + kId +
            "\", \"arrival_time\": 1795428000, \"message_size\": 300, \"sender\": \"\", "
            "\"recipients\": ["
            "{\"address\": \"a@example.net\", \"orig_address\": \"alias@example.org\", "
            "\"state\": \"deferred\", \"delay_reason\": \"try \\\"later\\\"\\\\now\", "
            "\"dsn\": \"4.4.1\", \"attempts\": 3, \"last_attempt\": 1795428060, "
            "\"next_retry\": 1795428660}, "
            "{\"address\": \"b@example.net\", \"orig_address\": \"\", \"state\": \"bounced\", "
            "\"bounce_reason\": \"550 no such user\", \"attempts\": 0, \"last_attempt\": 0, "
            "\"next_retry\": 0}, "
            "{\"address\": \"c@example.net\", \"orig_address\": \"\", \"state\": \"delivered\", "
            "\"attempts\": 0, \"last_attempt\": 0, \"next_retry\": 0}]}\n");
}

TEST_CASE("JSON strings are valid whatever the bytes", "[tools][queue][format]") {
  CHECK(json_string("plain") == "\"plain\"");
  CHECK(json_string("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_string(std::string("\n\t\x01\x7f", 4)) == "\"\\u000a\\u0009\\u0001\\u007f\"");
  CHECK(json_string(std::string("nul\0", 4)) == "\"nul\\u0000\"");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xab") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xab\"");
  CHECK(json_string("bad\xff\xc3") == "\"bad\\ufffd\\ufffd\"");
  CHECK(json_string("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate is not UTF-8
  CHECK(json_string("\xc0\xaf") == "\"\\ufffd\\ufffd\"");             // nor an overlong form
}

TEST_CASE("show prints labelled sections like postcat -q", "[tools][queue][format]") {
  UtcClock utc;
  queue::QueueFile qf;
  qf.id = QueueId(static_cast<std::uint64_t>(kArrival) * 1000000, 4242);
  qf.env = envelope("alice@example.org", {rcpt("bob@example.net", RcptState::deferred, "b@example.org"),
                                          rcpt("carol@example.net", RcptState::delivered)});
  qf.env.recipients[0].notify = queue::kNotifySuccess | queue::kNotifyDelay;
  qf.env.recipients[0].status = {RcptState::deferred, 0, 2, kArrival + 60, kArrival + 660};
  qf.env.client = {"mx.example.org", "192.0.2.7", "mx.example.org", "ESMTPS", ""};
  qf.env.body_type = queue::BodyType::eight_bit_mime;
  qf.headers = "Subject: hi\r\n\r\n";
  qf.body = "no newline at the end";
  std::string full = show_message(QueueName::deferred, qf, {reason(0, "greylisted")}, {}, {});
  std::string tag = "deferred/" + kId + " ***\n";
  CHECK(full ==
        "*** ENVELOPE RECORDS " + tag +
            "queue_id: " + kId + "\n"
            "message_size: 36\n"
            "message_arrival_time: Mon Nov 23 10:00:00 2026\n"
            "sender: alice@example.org\n"
            "body_type: 8BITMIME\n"
            "client_name: mx.example.org\n"
            "client_address: 192.0.2.7\n"
            "helo_name: mx.example.org\n"
            "protocol_name: ESMTPS\n"
            "recipient: bob@example.net\n"
            "    original_recipient: b@example.org\n"
            "    dsn_notify: SUCCESS,DELAY\n"
            "    state: deferred, attempts: 2, last attempt: Mon Nov 23 10:01:00 2026, "
            "next attempt: Mon Nov 23 10:11:00 2026\n"
            "    defer_reason: 4.4.1 Mon Nov 23 10:01:00 2026 relay=mx.example.net[192.0.2.1]:25 "
            "(greylisted)\n"
            "recipient: carol@example.net\n"
            "    state: delivered, attempts: 0\n"
            "*** MESSAGE HEADERS " + tag + "Subject: hi\r\n\r\n"
            "*** MESSAGE BODY " + tag + "no newline at the end\n"
            "*** MESSAGE FILE END " + tag);
  ShowParts body_only;
  body_only.body = true;
  CHECK(show_message(QueueName::deferred, qf, {}, {}, body_only) ==
        "*** MESSAGE BODY " + tag + "no newline at the end\n*** MESSAGE FILE END " + tag);
}

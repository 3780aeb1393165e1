// Tests of tools/sendmail/args.cc, envelope.cc and input.cc.
#include <catch2/catch.hpp>

#include "tools/sendmail/args.h"
#include "tools/sendmail/envelope.h"
#include "tools/sendmail/input.h"

using namespace posthorn;
using namespace posthorn::sendmail;

namespace {
Args parse_ok(std::vector<std::string> v) {
  auto a = parse_args(v);
  INFO((a ? std::string() : a.error().detail));
  REQUIRE(a);
  return *a;
}
std::string parse_error(std::vector<std::string> v) {
  auto a = parse_args(v);
  REQUIRE_FALSE(a);
  CHECK(a.error().code == Errc::invalid);
  return a.error().detail;
}
}  // namespace

TEST_CASE("sendmail: the options real programs use", "[sendmail][args]") {
  Args a = parse_ok({"-t", "-i", "-f", "bounce@example.org", "-F", "Alice Example", "bob"});
  CHECK(a.mode == Mode::deliver);
  CHECK(a.extract);
  CHECK(a.ignore_dots);
  CHECK(a.sender == "bounce@example.org");
  CHECK(a.full_name == "Alice Example");
  CHECK(a.recipients == std::vector<std::string>{"bob"});

  // mutt: "-oem -oi --"; values attached; flags grouped; -r as -f.
  a = parse_ok({"-oem", "-oi", "-rfrom@x.example", "-ti", "--", "-not-an-option@example.org"});
  CHECK(a.ignore_dots);
  CHECK(a.extract);
  CHECK(a.sender == "from@x.example");
  CHECK(a.ignored == std::vector<std::string>{"-oem"});
  CHECK(a.recipients == std::vector<std::string>{"-not-an-option@example.org"});

  // Options after recipients (glibc's getopt permutes, so Postfix takes them).
  a = parse_ok({"carol@example.org", "-f", "<>", "-v"});
  CHECK(a.sender == "<>");
  CHECK(a.verbose);
  CHECK(a.recipients == std::vector<std::string>{"carol@example.org"});
}

TEST_CASE("sendmail: DSN, body type and envelope ID options", "[sendmail][args]") {
  Args a = parse_ok({"-N", "success,delay", "-R", "hdrs", "-V", "ENV-1", "-B", "8bitmime", "x"});
  CHECK(a.notify == (queue::kNotifySuccess | queue::kNotifyDelay));
  CHECK(a.ret == queue::DsnRet::hdrs);
  CHECK(a.envid == "ENV-1");
  CHECK(a.body == queue::BodyType::eight_bit_mime);
  CHECK(parse_ok({"-Nnever", "x"}).notify == queue::kNotifyNever);
  CHECK(parse_ok({"-B7BIT", "x"}).body == queue::BodyType::seven_bit);
  CHECK(parse_ok({"-Rfull", "x"}).ret == queue::DsnRet::full);

  CHECK_THAT(parse_error({"-N", "sometimes", "x"}), Catch::Contains("-N: bad DSN notify value"));
  CHECK_THAT(parse_error({"-R", "body", "x"}), Catch::Contains("-R: bad DSN return value"));
  CHECK_THAT(parse_error({"-B", "BINARYMIME", "x"}), Catch::Contains("-B: unsupported body type"));
  CHECK_THAT(parse_error({"-V", "has space", "x"}), Catch::Contains("printable ASCII"));
  CHECK_THAT(parse_error({"-V", std::string(101, 'a'), "x"}), Catch::Contains("1 to 100"));
}

TEST_CASE("sendmail: modes", "[sendmail][args]") {
  CHECK(parse_ok({"-bm", "x"}).mode == Mode::deliver);
  CHECK(parse_ok({"-bs"}).mode == Mode::smtp);
  CHECK(parse_ok({"-bp"}).mode == Mode::list);
  CHECK(parse_ok({"-bi"}).mode == Mode::aliases);
  CHECK(parse_ok({"-I"}).mode == Mode::aliases);
  CHECK(parse_ok({"-bd"}).mode == Mode::daemon);
  Args q = parse_ok({"-q"});
  CHECK(q.mode == Mode::flush);
  CHECK(q.flush_domain.empty());
  CHECK_FALSE(q.flush_interval);
  CHECK(parse_ok({"-qRExample.ORG"}).flush_domain == "example.org");
  CHECK(parse_ok({"-qR", "example.net"}).flush_domain == "example.net");
  CHECK(parse_ok({"-qI1K0Y500FVFAAERSX"}).flush_id == "1K0Y500FVFAAERSX");
  CHECK(parse_ok({"-q30m"}).flush_interval);
  CHECK_THAT(parse_error({"-bx"}), Catch::Contains("unsupported mode -bx"));
  CHECK_THAT(parse_error({"-qfast"}), Catch::Contains("not a queue run interval"));
}

TEST_CASE("sendmail: compatibility options are accepted and listed", "[sendmail][args]") {
  Args a = parse_ok({"-odi", "-O", "DeliveryMode=b", "-h", "10", "-L", "tag", "-G", "-U", "-m",
                     "-n", "-X", "/tmp/log", "-Am", "x"});
  CHECK(a.ignored == std::vector<std::string>{"-odi", "-O DeliveryMode=b", "-h 10", "-L tag", "-G",
                                              "-U", "-m", "-n", "-X /tmp/log", "-Am"});
  CHECK(a.recipients == std::vector<std::string>{"x"});
}

TEST_CASE("sendmail: unknown options and missing values are usage errors", "[sendmail][args]") {
  CHECK(parse_error({"-k", "x"}) == "unknown option -k");
  CHECK(parse_error({"-tk"}) == "unknown option -k");
  CHECK(parse_error({"x", "-f"}) == "option -f needs a value");
  CHECK(parse_error({"-C"}) == "option -C needs a value");
  CHECK(parse_error({"-qR"}) == "-qR needs a value");
  // A lone "-" is an operand, not an option.
  CHECK(parse_ok({"-"}).recipients == std::vector<std::string>{"-"});
}

TEST_CASE("sendmail: command-line addresses go through lib/address", "[sendmail][envelope]") {
  auto r = parse_recipients({"bob", "Carol <carol@Example.ORG>, dave@example.net", "\"e f\"@x.org"});
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{"bob", "carol@example.org", "dave@example.net", "\"e f\"@x.org"});
  CHECK(parse_recipients({"j\xc3\xb6rg@example.org"}));  // SMTPUTF8 allowed
  CHECK(has_non_ascii("j\xc3\xb6rg@example.org"));
  CHECK_FALSE(has_non_ascii("jorg@example.org"));

  auto bad = parse_recipients({"ok@example.org", "bad@@example.org"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid);
  CHECK_THAT(bad.error().detail, Catch::Contains("bad recipient address \"bad@@example.org\""));
  CHECK_FALSE(parse_recipients({"undisclosed:;"}));  // a group with no member is no recipient
  CHECK_FALSE(parse_recipients({"a@b.example\r\nBcc: x@y"}));
}

TEST_CASE("sendmail: the sender of -f", "[sendmail][envelope]") {
  CHECK(*parse_sender("") == "");
  CHECK(*parse_sender("<>") == "");
  CHECK(*parse_sender("root") == "root");
  CHECK(*parse_sender("<bounce@Example.ORG>") == "bounce@example.org");
  CHECK(*parse_sender(" a@b.example ") == "a@b.example");
  auto bad = parse_sender("a b c");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().detail, Catch::Contains("bad sender address"));
  CHECK_FALSE(parse_sender("<a@b.example"));
}

TEST_CASE("sendmail: full name from -F, $NAME, then the account", "[sendmail][envelope]") {
  CHECK(choose_full_name(std::string("Given"), "Env", "Gecos") == "Given");
  CHECK(choose_full_name(std::string(""), "Env", "Gecos") == "");  // -F "" means none
  CHECK(choose_full_name(std::nullopt, "Env", "Gecos") == "Env");
  CHECK(choose_full_name(std::nullopt, "", "Gecos") == "Gecos");
  CHECK(choose_full_name(std::nullopt, nullptr, "Gecos") == "Gecos");
  auto root = account_of(0);
  REQUIRE(root);
  CHECK(root->login == "root");
}

TEST_CASE("sendmail: input ends at a lone dot unless -i", "[sendmail][input]") {
  struct Case {
    std::string in;
    bool dot_ends;
    std::string out;
  };
  const Case cases[] = {
      {"a\n.\nb\n", true, "a\n"},
      {"a\r\n.\r\nafter\r\n", true, "a\r\n"},
      {"a\n.\nb\n", false, "a\n.\nb\n"},
      {"a\n..\n. \nx.\n", true, "a\n..\n. \nx.\n"},  // only "." alone ends it
      {".\n", true, ""},
      {"a\n.", true, "a\n."},  // no line end after the dot: not an end line
      {"From alice Mon Nov 23 10:00:00 2026\nSubject: x\n\nb\n", true, "Subject: x\n\nb\n"},
      {"Subject: x\nFrom alice\n", true, "Subject: x\nFrom alice\n"},  // only the first line
      {"From: alice\n\nb\n", true, "From: alice\n\nb\n"},              // a header, not mbox
  };
  for (const Case& c : cases) {
    // Every split of the input gives the same message.
    for (std::size_t cut = 0; cut <= c.in.size(); ++cut) {
      InputReader r(c.dot_ends);
      r.feed(std::string_view(c.in).substr(0, cut));
      r.feed(std::string_view(c.in).substr(cut));
      INFO("input " << c.in << " cut " << cut);
      CHECK(r.message() == c.out);
    }
  }
  InputReader r(true);
  CHECK_FALSE(r.feed("a\n"));
  CHECK(r.feed(".\n"));
  CHECK(r.done());
}

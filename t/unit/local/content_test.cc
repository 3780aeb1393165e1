// What local writes: the mbox From_ line and quoting, Maildir and command
// renderings, the Delivered-To loop check.
#include "local/content.h"

#include <stdlib.h>
#include <time.h>

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::local;

namespace {

struct UtcClock {  // the From_ line is in local time: make that UTC here
  UtcClock() {
    const char* tz = ::getenv("TZ");
    if (tz) saved = tz, had = true;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcClock() {
    if (had) ::setenv("TZ", saved.c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
  std::string saved;
  bool had = false;
};

const char* kHeaders = "Subject: test\r\nFrom: alice@example.org\r\n\r\n";

}  // namespace

TEST_CASE("the From_ line is Postfix's", "[local][content]") {
  UtcClock utc;
  CHECK(from_line("alice@example.org", 0) == "From alice@example.org  Thu Jan  1 00:00:00 1970\n");
  CHECK(from_line("", 1795435200) == "From MAILER-DAEMON  Mon Nov 23 12:00:00 2026\n");
  CHECK(from_line("john doe@example.org", 0) ==
        "From \"john doe\"@example.org  Thu Jan  1 00:00:00 1970\n");
}

TEST_CASE("mbox rendering quotes From lines, converts CRLF and ends with an empty line", "[local][content]") {
  UtcClock utc;
  Envelope env{"alice@example.org", "bob@example.org", "bob@example.org"};
  std::string body = "From the start\r\n>From quoted already\r\nFrom\r\n From indented\r\nbare\rCR\nbare LF\r\nFrom ";
  std::string got = render(Style::mbox, env, kHeaders, body, 0);
  CHECK(got ==
        "From alice@example.org  Thu Jan  1 00:00:00 1970\n"
        "Return-Path: <alice@example.org>\n"
        "X-Original-To: bob@example.org\n"
        "Delivered-To: bob@example.org\n"
        "Subject: test\n"
        "From: alice@example.org\n"
        "\n"
        ">From the start\n"
        ">From quoted already\n"
        "From\n"
        " From indented\n"
        "bare\rCR\n"
        "bare LF\n"
        ">From \n"
        "\n");
}

TEST_CASE("Maildir rendering has the three headers and the message, nothing else", "[local][content]") {
  Envelope env{"", "orig@example.org", std::nullopt};
  std::string got = render(Style::maildir, env, kHeaders, "From here\r\nline\r\n", 12345);
  CHECK(got ==
        "Return-Path: <>\n"
        "X-Original-To: orig@example.org\n"
        "Subject: test\n"
        "From: alice@example.org\n"
        "\n"
        "From here\n"
        "line\n");
}

TEST_CASE("command rendering has the From_ line but no quoting and no trailing empty line", "[local][content]") {
  UtcClock utc;
  Envelope env{"a@example.org", std::nullopt, "list@example.org"};
  std::string got = render(Style::command, env, kHeaders, "From x\r\nend", 0);
  CHECK(got ==
        "From a@example.org  Thu Jan  1 00:00:00 1970\n"
        "Return-Path: <a@example.org>\n"
        "Delivered-To: list@example.org\n"
        "Subject: test\n"
        "From: alice@example.org\n"
        "\n"
        "From x\n"
        "end\n");
}

TEST_CASE("8-bit bytes and NUL pass unchanged", "[local][content]") {
  const char raw[] = "caf\xc3\xa9\r\n\0nul\r\n";
  const char want[] = "Return-Path: <a@b>\ncaf\xc3\xa9\n\0nul\n";
  std::string got = render(Style::maildir, Envelope{"a@b", std::nullopt, std::nullopt}, "",
                           std::string(raw, sizeof raw - 1), 0);
  CHECK(got == std::string(want, sizeof want - 1));
}

TEST_CASE("Delivered-To values are found, unfolded and compared without case", "[local][content][loop]") {
  const std::string headers =
      "Received: from x\r\n"
      "Delivered-To: alice@example.org\r\n"
      "delivered-to:\r\n"
      "  <Bob@Example.ORG>\r\n"
      "X-Delivered-To: carol@example.org\r\n"
      "Subject: Delivered-To: dave@example.org\r\n"
      "\r\n"
      "Delivered-To: eve@example.org\r\n";
  auto v = delivered_to_values(headers);
  CHECK(v == std::vector<std::string>{"alice@example.org", "Bob@Example.ORG"});
  CHECK(is_loop(v, "alice@example.org"));
  CHECK(is_loop(v, "ALICE@example.org"));
  CHECK(is_loop(v, "bob@example.org"));
  CHECK_FALSE(is_loop(v, "carol@example.org"));
  CHECK_FALSE(is_loop(v, "dave@example.org"));
  CHECK_FALSE(is_loop(v, "eve@example.org"));  // in the body, not a header
  CHECK_FALSE(is_loop({}, "alice@example.org"));
  CHECK(is_loop({"\"john doe\"@example.org"}, "john doe@example.org"));
}

TEST_CASE("a forwarded copy's Delivered-To line keeps the message's line ends", "[local][content]") {
  CHECK(delivered_to_line("Subject: x\r\n\r\n", "a@b") == "Delivered-To: a@b\r\n");
  CHECK(delivered_to_line("Subject: x\n\n", "a@b") == "Delivered-To: a@b\n");
  CHECK(delivered_to_line("", "a@b") == "Delivered-To: a@b\r\n");
}

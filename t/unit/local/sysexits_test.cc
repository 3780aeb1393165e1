// How a command's end maps to the mail's fate (sysexits, as Postfix).
#include "local/sysexits.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::local;
using How = CommandEnd::How;

TEST_CASE("sysexits codes map to Postfix's dsn and class", "[local][sysexits]") {
  struct Case {
    int code;
    const char* dsn;
    bool temporary;
    const char* text;
  };
  const Case cases[] = {
      {64, "5.3.0", false, "command line usage error"},
      {65, "5.6.0", false, "data format error"},
      {67, "5.1.1", false, "user unknown"},
      {68, "5.1.2", false, "host name unknown"},
      {69, "5.3.0", false, "service unavailable"},
      {71, "4.3.0", true, "system resource problem"},
      {73, "5.2.0", false, "can't create user output file"},
      {75, "4.3.0", true, "temporary failure"},
      {77, "5.7.0", false, "permission denied"},
      {78, "5.3.5", false, "local configuration error"},
      {1, "5.3.0", false, "unknown mail system error 1"},
      {127, "5.3.0", false, "unknown mail system error 127"},
  };
  for (const Case& c : cases) {
    INFO(c.code);
    ExitMeaning m = sysexit_meaning(c.code);
    CHECK(m.dsn == c.dsn);
    CHECK(m.temporary == c.temporary);
    CHECK(m.text == c.text);
  }
}

TEST_CASE("command outcomes", "[local][sysexits]") {
  CHECK(command_outcome({How::exited, 0, "", ""}, "/bin/true") ==
        Outcome::sent("delivered to command: /bin/true"));
  CHECK(command_outcome({How::exited, 75, "try later\nmore\n", ""}, "x") ==
        Outcome::deferred("4.3.0", "temporary failure. Command output: try later"));
  CHECK(command_outcome({How::exited, 67, "", ""}, "x") == Outcome::bounced("5.1.1", "user unknown"));
  CHECK(command_outcome({How::exited, 1, "\n\n  oops  \n", ""}, "x") ==
        Outcome::bounced("5.3.0", "unknown mail system error 1. Command output: oops"));
  // An enhanced status code at the start of the output decides.
  CHECK(command_outcome({How::exited, 1, "4.2.1 mailbox busy", ""}, "x") ==
        Outcome::deferred("4.2.1", "unknown mail system error 1. Command output: 4.2.1 mailbox busy"));
  CHECK(command_outcome({How::exited, 75, "5.1.1 no such list", ""}, "x").status == Status::bounced);
  CHECK(command_outcome({How::signaled, 9, "", ""}, "/bin/x") ==
        Outcome::deferred("4.3.0", "command died with signal 9: /bin/x"));
  CHECK(command_outcome({How::timed_out, 0, "", ""}, "sleep 99") ==
        Outcome::deferred("4.3.0", "command time limit exceeded: sleep 99"));
  CHECK(command_outcome({How::not_started, 0, "", "fork: out of memory"}, "x").status == Status::deferred);
}

TEST_CASE("command output in the reason is one printable, bounded line", "[local][sysexits]") {
  Outcome o = command_outcome({How::exited, 69, "bad\x01line\r\nsecond", ""}, "x");
  CHECK(o.text == "service unavailable. Command output: bad\\001line");
  o = command_outcome({How::exited, 69, std::string(500, 'x'), ""}, "x");
  CHECK(o.text.size() < 260);
  CHECK(o.text.substr(o.text.size() - 3) == "...");
}

TEST_CASE("leading status codes", "[local][sysexits]") {
  CHECK(leading_status_code("5.1.1 user unknown") == "5.1.1");
  CHECK(leading_status_code("4.7.12") == "4.7.12");
  CHECK(leading_status_code("4.2.2: full") == "4.2.2");
  CHECK(leading_status_code("2.0.0 ok").empty());
  CHECK(leading_status_code("5.1 x").empty());
  CHECK(leading_status_code("5.1.1x").empty());
  CHECK(leading_status_code("55.1.1").empty());
  CHECK(leading_status_code("5.1234.1").empty());
  CHECK(leading_status_code("").empty());
}

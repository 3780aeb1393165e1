// Outcomes of several parts, soft_bounce, and the delivery line.
#include "local/outcome.h"

#include <catch2/catch.hpp>

#include "lib/log/log.h"
#include "local/delivery_log.h"

using namespace posthorn;
using namespace posthorn::local;

TEST_CASE("parts combine: deferred beats bounced beats sent", "[local][outcome]") {
  const Outcome s1 = Outcome::sent("delivered to file: /f");
  const Outcome s2 = Outcome::sent("forwarded as 1ABC");
  const Outcome b = Outcome::bounced("5.7.1", "mail to command is restricted");
  const Outcome d = Outcome::deferred("4.3.0", "temporary failure");
  CHECK(combine({s1}) == s1);
  CHECK(combine({s1, s2}) == Outcome::sent("delivered to file: /f; forwarded as 1ABC"));
  CHECK(combine({s1, b, s2}) == b);
  CHECK(combine({b, d}) == d);
  CHECK(combine({}).status == Status::deferred);
}

TEST_CASE("soft_bounce turns bounces into deferrals", "[local][outcome]") {
  CHECK(soften(Outcome::bounced("5.1.1", "unknown user")) == Outcome::deferred("4.1.1", "unknown user"));
  CHECK(soften(Outcome::sent("ok")) == Outcome::sent("ok"));
  CHECK(soften(Outcome::deferred("4.2.0", "locked")) == Outcome::deferred("4.2.0", "locked"));
}

TEST_CASE("delays are printed as Postfix prints them", "[local][log]") {
  struct Case {
    double s;
    const char* want;
  };
  const Case cases[] = {{0, "0"},      {0.004, "0"},    {0.005, "0.01"}, {0.038, "0.04"},
                        {0.1, "0.1"},  {0.125, "0.12"}, {0.999, "1"},    {1.0, "1"},
                        {1.54, "1.5"}, {9.96, "10"},    {86.4, "86"},    {3600, "3600"},
                        {-1, "0"}};
  for (const Case& c : cases) {
    INFO(c.s);
    CHECK(format_delay(c.s) == c.want);
  }
}

TEST_CASE("the delivery line has Postfix's shape", "[local][log]") {
  Timing t{1'000'000, 1'050'000, 1'060'000, 1'060'000, 1'120'000};
  log::Record r = delivery_record("1ABC", "bob@example.org", "", "local", t,
                                  Outcome::sent("delivered to maildir"));
  CHECK(log::render_text_body(r) ==
        "1ABC: to=<bob@example.org>, relay=local, delay=0.12, delays=0.05/0.01/0/0.06, "
        "dsn=2.0.0, status=sent (delivered to maildir)");
  r = delivery_record("1ABC", "alice@example.org", "root@example.org", "local", t,
                      Outcome::bounced("5.4.6", "mail forwarding loop for alice@example.org"));
  CHECK(log::render_text_body(r) ==
        "1ABC: to=<alice@example.org>, orig_to=<root@example.org>, relay=local, delay=0.12, "
        "delays=0.05/0.01/0/0.06, dsn=5.4.6, status=bounced (mail forwarding loop for "
        "alice@example.org)");
  // Missing or backwards times count as no time.
  Timing odd{0, 0, 5'000'000, 4'000'000, 4'500'000};
  r = delivery_record("1ABC", "b@x", "", "virtual", odd, Outcome::deferred("4.2.0", "locked"));
  CHECK(log::render_text_body(r) ==
        "1ABC: to=<b@x>, relay=virtual, delay=0, delays=0/0/0/0, dsn=4.2.0, status=deferred (locked)");
}

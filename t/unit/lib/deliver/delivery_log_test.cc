// The delivery line of every agent: delays and Postfix's field order.
#include "lib/deliver/delivery_log.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::deliver;

TEST_CASE("delays are printed as Postfix prints them", "[deliver][log]") {
  struct Case {
    double s;
    const char* want;
  };
  const Case cases[] = {{0, "0"},       {0.004, "0"},   {0.005, "0.01"}, {0.038, "0.04"}, {0.05, "0.05"},
                        {0.1, "0.1"},   {0.123, "0.12"}, {0.125, "0.12"}, {0.999, "1"},   {1.0, "1"},
                        {1.54, "1.5"},  {3.0, "3"},     {9.96, "10"},    {86.4, "86"},    {3600, "3600"},
                        {-1, "0"}};
  for (const Case& c : cases) {
    INFO(c.s);
    CHECK(format_delay(c.s) == c.want);
  }
}

TEST_CASE("the delivery line has Postfix's shape", "[deliver][log]") {
  Timing t{1'000'000, 1'050'000, 1'060'000, 1'060'000, 1'120'000};
  log::Record r = delivery_record("1ABC", "bob@example.org", "", "local", t, "2.0.0", "sent",
                                  "delivered to maildir");
  CHECK(log::render_text_body(r) ==
        "1ABC: to=<bob@example.org>, relay=local, delay=0.12, delays=0.05/0.01/0/0.06, "
        "dsn=2.0.0, status=sent (delivered to maildir)");
  r = delivery_record("1ABC", "alice@example.org", "root@example.org", "local", t, "5.4.6", "bounced",
                      "mail forwarding loop for alice@example.org");
  CHECK(log::render_text_body(r) ==
        "1ABC: to=<alice@example.org>, orig_to=<root@example.org>, relay=local, delay=0.12, "
        "delays=0.05/0.01/0/0.06, dsn=5.4.6, status=bounced (mail forwarding loop for "
        "alice@example.org)");
  r = delivery_record("4F2A1B", "bob@example.org", "bob@example.org", "mx.example.org[192.0.2.1]:25",
                      {1'000'000, 1'100'000, 1'100'000, 1'300'000, 1'400'000}, "2.0.0", "sent",
                      "250 2.0.0 Ok: queued as X");
  CHECK(log::render_text_body(r) ==
        "4F2A1B: to=<bob@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=0.4, "
        "delays=0.1/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)");
  // Missing or backwards times count as no time.
  Timing odd{0, 0, 5'000'000, 4'000'000, 4'500'000};
  r = delivery_record("1ABC", "b@x", "", "virtual", odd, "4.2.0", "deferred", "locked");
  CHECK(log::render_text_body(r) ==
        "1ABC: to=<b@x>, relay=virtual, delay=0, delays=0/0/0/0, dsn=4.2.0, status=deferred (locked)");
}

TEST_CASE("a request's times fill the first three stages", "[deliver][log]") {
  Request req;
  req.arrival_us = 1;
  req.active_us = 2;
  req.dispatch_us = 3;
  Timing t = Timing::of(req, 4, 5);
  CHECK((t.arrival_us == 1 && t.active_us == 2 && t.dispatch_us == 3 && t.start_us == 4 && t.end_us == 5));
}

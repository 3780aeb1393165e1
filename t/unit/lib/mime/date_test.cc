// Tests for lib/mime/date.h.
#include "lib/mime/date.h"

#include <catch2/catch.hpp>

using namespace posthorn::mime;

TEST_CASE("RFC 5322 dates", "[mime][date]") {
  auto d = parse_date_time("Mon, 7 Feb 1994 21:52:25 -0800");
  REQUIRE(d);
  CHECK(d->year == 1994);
  CHECK(d->month == 2);
  CHECK(d->day == 7);
  CHECK(d->zone_minutes == -480);
  CHECK(d->to_time() == 760686745);
  // Obsolete and sloppy forms readers meet.
  CHECK(parse_date_time("7 Feb 94 21:52 GMT")->year == 1994);
  CHECK(parse_date_time("7 Feb 05 21:52:25 +0000")->year == 2005);
  CHECK(parse_date_time("Tue,  1 Jul 2003 10:52:37 +0200 (CEST)")->zone_minutes == 120);
  CHECK(parse_date_time("1 July 2003 10:52:37 EDT")->zone_minutes == -240);
  CHECK(parse_date_time("1 Jul 2003 10:52:37")->zone_minutes == 0);
  for (const char* bad : {"", "yesterday", "32 Jan 2003 10:00 +0000", "1 Foo 2003 10:00 +0000",
                          "1 Jan 2003 24:00 +0000", "1 Jan 2003 10:00 +2", "1 Jan 2003"}) {
    INFO(bad);
    CHECK_FALSE(parse_date_time(bad));
  }
}

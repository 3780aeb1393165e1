// Tests for imapd/format.h: flags and dates.
#include "imapd/format.h"

#include <catch2/catch.hpp>

#include <cstdlib>

#include "lib/mailstore/names.h"

using namespace posthorn;
using namespace posthorn::imapd;

namespace {

Value atom(const char* t) {
  Value v;
  v.text = t;
  return v;
}

Value list(std::initializer_list<const char*> ts) {
  Value v;
  v.kind = Value::Kind::list;
  for (const char* t : ts) v.items.push_back(atom(t));
  return v;
}

}  // namespace

TEST_CASE("flag lists", "[imapd][format]") {
  using namespace posthorn::mailstore;
  CHECK(flag_list(0, {}, false) == "()");
  CHECK(flag_list(kSeen | kReplied | kPassed, {"$Junk"}, true) ==
        "(\\Answered \\Seen $Forwarded $Junk \\Recent)");
  auto f = parse_flags(list({"\\seen", "\\DELETED", "$Forwarded", "$Junk", "\\Recent", "$junk"}));
  REQUIRE(f);
  CHECK(f->flags == (kSeen | kTrashed | kPassed));
  CHECK(f->keywords == std::vector<std::string>{"$Junk"});
  CHECK_FALSE(parse_flags(list({"\\Bogus"})));
  CHECK_FALSE(parse_flags(list({"a]b"})));
  Value s;
  s.kind = Value::Kind::string;
  s.text = "x";
  CHECK_FALSE(parse_flags(s));
}

TEST_CASE("date-time values", "[imapd][format]") {
  CHECK(*parse_date_time("17-Jul-1996 02:44:25 -0700") == 837596665);
  CHECK(*parse_date_time(" 7-Jul-1996 02:44:25 +0000") == 836707465);
  CHECK(*parse_date_time("7-Jul-1996 02:44:25 +0000") == 836707465);
  for (const char* bad : {"", "17-Jul-1996", "17-Jux-1996 02:44:25 -0700",
                          "17-Jul-1996 25:44:25 -0700", "17-Jul-1996 02:44:25 0700",
                          "32-Jul-1996 02:44:25 -0700", "17-Jul-96 02:44:25 -0700"}) {
    INFO(bad);
    CHECK_FALSE(parse_date_time(bad));
  }
  CHECK(*parse_date("1-Feb-1994") == days_from_civil(1994, 2, 1));
  CHECK(*parse_date("01-feb-1994") == days_from_civil(1994, 2, 1));
  CHECK_FALSE(parse_date("1-Feb-94"));
  CHECK_FALSE(parse_date("1 Feb 1994"));
}

TEST_CASE("internal dates are shown in local time with its offset", "[imapd][format]") {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "UTC", 1);
  tzset();
  CHECK(format_date_time(837596665) == "17-Jul-1996 09:44:25 +0000");
  CHECK(*parse_date_time(format_date_time(837596665)) == 837596665);
  CHECK(local_day(837596665) == days_from_civil(1996, 7, 17));
  if (old) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
}

// Outcomes of several parts and soft_bounce (the delivery line: t/unit/lib/deliver).
#include "local/outcome.h"

#include <catch2/catch.hpp>

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

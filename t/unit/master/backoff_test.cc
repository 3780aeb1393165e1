// Tests for master/backoff.h: the pause of a service failing at start-up.
#include <catch2/catch.hpp>

#include "master/backoff.h"

using posthorn::master::throttle_delay;
using std::chrono::seconds;

TEST_CASE("throttling doubles from 1 s up to service_throttle_time", "[master]") {
  struct Case { unsigned failures; long long limit; long long want; };
  const Case cases[] = {
      {0, 60, 0}, {1, 60, 1}, {2, 60, 2}, {3, 60, 4}, {6, 60, 32}, {7, 60, 60},
      {1000, 60, 60}, {4294967295u, 60, 60}, {1, 1, 1}, {5, 1, 1}, {3, 3, 3},
  };
  for (const auto& c : cases) {
    INFO(c.failures << " failures, limit " << c.limit);
    CHECK(throttle_delay(c.failures, seconds(c.limit)) == seconds(c.want));
  }
}

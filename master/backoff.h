// master/backoff.h - how long a service that fails at start-up is paused.
//
// A child that exits before its first status report failed at start-up
// (bad configuration, missing file, a crash in initialisation). Spawning it
// again at once would only spin, so the service is throttled: 1 s after the
// first failure in a row, doubling with each further one, never more than
// service_throttle_time (Postfix pauses for service_throttle_time at once; a
// short first pause lets a service recover quickly from a passing problem).
// A child that reports ready resets the count. Only that service waits; the
// others run on.
#pragma once

#include <algorithm>
#include <chrono>

namespace posthorn::master {

inline std::chrono::seconds throttle_delay(unsigned failures, std::chrono::seconds limit) {
  if (failures == 0) return std::chrono::seconds(0);
  long long d = 1;
  for (unsigned i = 1; i < failures && d < limit.count(); ++i) d *= 2;
  return std::chrono::seconds(std::min(d, static_cast<long long>(limit.count())));
}

}  // namespace posthorn::master

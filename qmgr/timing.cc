// qmgr/timing.cc - see timing.h.
#include "qmgr/timing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lib/base/strings.h"

namespace posthorn::qmgr {

std::int64_t backoff_seconds(std::uint32_t attempts, const Settings& s, double u) {
  const double min = static_cast<double>(s.min_backoff.count());
  const double max = std::max(min, static_cast<double>(s.max_backoff.count()));
  const std::uint32_t n = std::max<std::uint32_t>(attempts, 1);
  // 2^(n-1) without overflow: past 2^62 every sane maximum is reached anyway.
  const double target = std::min(max, min * std::ldexp(1.0, static_cast<int>(std::min<std::uint32_t>(n - 1, 62))));
  const double hi = std::min(max, target * 1.2);
  const double lo = std::max(min, hi - target * 0.2);
  const double draw = lo + (hi - lo) * std::clamp(u, 0.0, 1.0);
  return std::max<std::int64_t>(1, std::llround(draw));
}

std::chrono::seconds queue_lifetime(const std::string& sender, const Settings& s) {
  return sender.empty() ? s.bounce_queue_lifetime : s.max_queue_lifetime;
}

bool expired(std::int64_t arrival_us, const std::string& sender, std::int64_t now_us,
             const Settings& s) {
  const std::int64_t life_us = queue_lifetime(sender, s).count() * 1'000'000;
  return now_us - arrival_us >= life_us;
}

bool delay_warning_due(std::int64_t arrival_us, std::int64_t now_us, const Settings& s) {
  if (s.delay_warning_time.count() <= 0) return false;
  return now_us - arrival_us >= s.delay_warning_time.count() * 1'000'000;
}

std::string describe_duration(std::chrono::seconds d) {
  struct Unit {
    long long secs;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{604800, "week"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  const long long n = d.count();
  for (const Unit& u : kUnits) {
    if (n < u.secs || n % u.secs != 0) continue;
    long long k = n / u.secs;
    return cat(k, " ", u.name, k == 1 ? "" : "s");
  }
  return cat(n, " seconds");
}

std::string format_delay(double seconds) {
  if (!(seconds > 0)) return "0";
  char buf[64];
  if (seconds >= 100)
    std::snprintf(buf, sizeof buf, "%.0f", seconds);
  else if (seconds >= 10)
    std::snprintf(buf, sizeof buf, "%.1f", seconds);
  else
    std::snprintf(buf, sizeof buf, "%.2f", seconds);
  std::string out = buf;
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out;
}

}  // namespace posthorn::qmgr

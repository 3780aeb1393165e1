// smtp/delivery_log.cc - see delivery_log.h.
#include "smtp/delivery_log.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lib/base/strings.h"

namespace posthorn::smtp {

std::string delay_text(double s) {
  if (!(s >= 0.005)) return "0";
  const double scale = s < 0.995 ? 100 : s < 9.95 ? 10 : 1;
  const long long units = std::llround(s * scale);
  std::string out = std::to_string(units / static_cast<long long>(scale));
  long long frac = units % static_cast<long long>(scale);
  if (scale == 100 && frac) out += frac % 10 ? cat(".", frac / 10, frac % 10) : cat(".", frac / 10);
  else if (scale == 10 && frac) out += cat(".", frac);
  return out;
}

log::Record delivery_line(std::string_view queue_id, std::string_view to, std::string_view orig_to,
                          std::string_view relay, const Timing& t, std::string_view dsn,
                          std::string_view status, std::string_view text) {
  // Stages follow each other; a missing or earlier time counts as no time.
  const std::int64_t a0 = t.arrival_us > 0 ? t.arrival_us : t.dispatch_us;
  const std::int64_t a1 = std::max(a0, t.active_us);
  const std::int64_t a2 = std::max(a1, t.dispatch_us);
  const std::int64_t a3 = std::max(a2, t.start_us);
  const std::int64_t a4 = std::max(a3, t.end_us);
  auto sec = [](std::int64_t us) { return delay_text(static_cast<double>(us) / 1e6); };
  log::Record r;
  r.event = "delivery";
  r.queue_id = std::string(queue_id);
  r.fields.push_back({"to", cat("<", to, ">")});
  if (!orig_to.empty() && orig_to != to) r.fields.push_back({"orig_to", cat("<", orig_to, ">")});
  r.fields.push_back({"relay", std::string(relay)});
  r.fields.push_back({"delay", sec(a4 - a0)});
  r.fields.push_back({"delays", cat(sec(a1 - a0), "/", sec(a2 - a1), "/", sec(a3 - a2), "/", sec(a4 - a3))});
  r.fields.push_back({"dsn", std::string(dsn)});
  r.fields.push_back({"status", std::string(status)});
  r.text = cat("(", text, ")");
  return r;
}

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace posthorn::smtp

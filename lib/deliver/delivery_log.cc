// lib/deliver/delivery_log.cc - see delivery_log.h.
#include "lib/deliver/delivery_log.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "lib/base/strings.h"

namespace posthorn::deliver {

std::string format_delay(double s) {
  if (!(s >= 0.005)) return "0";
  // Two decimals below a second, one below ten, none above; trailing zeros
  // go ("0.10" -> "0.1", "3.0" -> "3"), as in Postfix's lines.
  const int decimals = s < 0.995 ? 2 : s < 9.95 ? 1 : 0;
  std::string out(32, '\0');
  auto r = std::to_chars(out.data(), out.data() + out.size(), s, std::chars_format::fixed, decimals);
  out.resize(static_cast<std::size_t>(r.ptr - out.data()));
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out;
}

log::Record delivery_record(std::string_view queue_id, std::string_view to, std::string_view orig_to,
                            std::string_view relay, const Timing& t, std::string_view dsn,
                            std::string_view status, std::string_view text) {
  // Each stage starts where the one before ended; a missing time is "no time".
  const std::int64_t arrival = t.arrival_us > 0 ? t.arrival_us : t.dispatch_us;
  const std::int64_t active = std::max(arrival, t.active_us > 0 ? t.active_us : arrival);
  const std::int64_t dispatch = std::max(active, t.dispatch_us > 0 ? t.dispatch_us : active);
  const std::int64_t start = std::max(dispatch, t.start_us);
  const std::int64_t end = std::max(start, t.end_us);
  auto secs = [](std::int64_t us) { return format_delay(static_cast<double>(us) / 1e6); };
  log::Record r;
  r.event = "delivery";
  r.queue_id = std::string(queue_id);
  r.fields.push_back({"to", cat("<", to, ">")});
  if (!orig_to.empty() && orig_to != to) r.fields.push_back({"orig_to", cat("<", orig_to, ">")});
  r.fields.push_back({"relay", std::string(relay)});
  r.fields.push_back({"delay", secs(end - arrival)});
  r.fields.push_back({"delays", cat(secs(active - arrival), "/", secs(dispatch - active), "/",
                                    secs(start - dispatch), "/", secs(end - start))});
  r.fields.push_back({"dsn", std::string(dsn)});
  r.fields.push_back({"status", std::string(status)});
  r.text = cat("(", text, ")");
  return r;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace posthorn::deliver

#include "qmgr/timing.h"

#include <catch2/catch.hpp>
#include <set>

using namespace posthorn::qmgr;

namespace {

Settings backoff(long min, long max) {
  Settings s;
  s.min_backoff = std::chrono::seconds(min);
  s.max_backoff = std::chrono::seconds(max);
  return s;
}

}  // namespace

TEST_CASE("back-off doubles per attempt between the minimum and the maximum", "[qmgr][timing]") {
  const Settings s = backoff(300, 4000);
  struct Row {
    std::uint32_t attempts;
    double u;
    std::int64_t want;
  };
  const Row rows[] = {
      {0, 0.0, 300},   // no attempt yet counts as the first
      {1, 0.0, 300},   {1, 1.0, 360},   // window [300, 360]
      {2, 0.0, 600},   {2, 1.0, 720},   // target 600: [600, 720]
      {3, 0.0, 1200},  {3, 0.5, 1320},  {3, 1.0, 1440},
      {4, 0.0, 2400},  {4, 1.0, 2880},
      {5, 0.0, 3200},  {5, 1.0, 4000},  // target 4000 (capped): [3200, 4000]
      {9, 0.0, 3200},  {9, 1.0, 4000},
      {1000, 0.5, 3600},                // huge counts do not overflow
  };
  for (const Row& r : rows) {
    INFO("attempts " << r.attempts << " u " << r.u);
    CHECK(backoff_seconds(r.attempts, s, r.u) == r.want);
  }
}

TEST_CASE("back-off stays within its bounds for every draw", "[qmgr][timing]") {
  for (auto [min, max] : {std::pair{1L, 4L}, {300L, 4000L}, {60L, 60L}, {10L, 11L}}) {
    const Settings s = backoff(min, max);
    for (std::uint32_t n = 0; n < 40; ++n)
      for (double u : {0.0, 0.25, 0.5, 0.75, 0.999999}) {
        auto d = backoff_seconds(n, s, u);
        INFO("min " << min << " max " << max << " n " << n << " u " << u);
        CHECK(d >= min);
        CHECK(d <= max);
      }
  }
}

TEST_CASE("jitter spreads a cohort deferred together", "[qmgr][timing]") {
  const Settings s = backoff(300, 4000);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(backoff_seconds(1, s, i / 100.0));
  CHECK(seen.size() > 50);  // 60 distinct seconds are available in [300, 360]
}

TEST_CASE("a message expires after its lifetime; bounces use bounce_queue_lifetime", "[qmgr][timing]") {
  Settings s;
  s.max_queue_lifetime = std::chrono::seconds(5 * 86400);
  s.bounce_queue_lifetime = std::chrono::seconds(86400);
  const std::int64_t arrival = 1'700'000'000'000'000;
  const std::int64_t day = 86400LL * 1'000'000;
  struct Row {
    std::string sender;
    std::int64_t age_us;
    bool expired;
  };
  const Row rows[] = {
      {"a@b.example", 0, false},
      {"a@b.example", 5 * day - 1, false},
      {"a@b.example", 5 * day, true},
      {"a@b.example", 9 * day, true},
      {"", day - 1, false},
      {"", day, true},
  };
  for (const Row& r : rows) {
    INFO("sender <" << r.sender << "> age " << r.age_us);
    CHECK(expired(arrival, r.sender, arrival + r.age_us, s) == r.expired);
  }
  s.max_queue_lifetime = std::chrono::seconds(0);  // Postfix: one attempt only
  CHECK(expired(arrival, "a@b.example", arrival, s));
  CHECK(queue_lifetime("", s).count() == 86400);
  CHECK(queue_lifetime("x@y.example", s).count() == 0);
}

TEST_CASE("delay warnings are due after delay_warning_time, never when it is 0", "[qmgr][timing]") {
  Settings s;
  const std::int64_t arrival = 1'700'000'000'000'000;
  CHECK_FALSE(delay_warning_due(arrival, arrival + 999'999'000'000, s));
  s.delay_warning_time = std::chrono::seconds(4 * 3600);
  CHECK_FALSE(delay_warning_due(arrival, arrival + 4 * 3600 * 1'000'000LL - 1, s));
  CHECK(delay_warning_due(arrival, arrival + 4 * 3600 * 1'000'000LL, s));
}

TEST_CASE("durations and delays are written as Postfix writes them", "[qmgr][timing]") {
  CHECK(describe_duration(std::chrono::seconds(5 * 86400)) == "5 days");
  CHECK(describe_duration(std::chrono::seconds(86400)) == "1 day");
  CHECK(describe_duration(std::chrono::seconds(7200)) == "2 hours");
  CHECK(describe_duration(std::chrono::seconds(90)) == "90 seconds");
  CHECK(describe_duration(std::chrono::seconds(1)) == "1 second");
  CHECK(describe_duration(std::chrono::seconds(0)) == "0 seconds");
  CHECK(describe_duration(std::chrono::seconds(1209600)) == "2 weeks");
  CHECK(format_delay(0) == "0");
  CHECK(format_delay(-1) == "0");
  CHECK(format_delay(0.001) == "0");
  CHECK(format_delay(0.12) == "0.12");
  CHECK(format_delay(0.5) == "0.5");
  CHECK(format_delay(3.456) == "3.46");
  CHECK(format_delay(12.34) == "12.3");
  CHECK(format_delay(432000.4) == "432000");
  CHECK(format_delay(2) == "2");
}

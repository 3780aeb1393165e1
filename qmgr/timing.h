// qmgr/timing.h - when to try again, when to give up, when to warn: pure
// functions of the queue file's numbers, the clock and the settings, so that
// unit tests can pin each decision.
//
// Back-off: the wait after the Nth failed attempt of a recipient is
//   target = minimal_backoff_time * 2^(N-1), at most maximal_backoff_time,
// then spread by jitter: a uniform draw in [hi - target/5, hi] where
// hi = min(maximal_backoff_time, target * 6/5), never below
// minimal_backoff_time. Messages deferred together (a destination that was
// down) therefore come back spread over a fifth of their wait instead of all
// at once, and the wait never leaves [minimal, maximal].
//
// Lifetime: a message has expired once it has been queued for
// maximal_queue_lifetime (bounce_queue_lifetime when its sender is <>,
// Postfix's rule for bounces). Postfix gives an expired message one more
// attempt: only a deferral of an expired message turns into a bounce, so a
// lifetime of 0 means "one attempt only".
//
// Delay warning: once a message has been queued for delay_warning_time (not 0),
// each recipient still pending that asked for DELAY gets one notice.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "qmgr/settings.h"

namespace posthorn::qmgr {

// Seconds to wait after `attempts` failed attempts (attempts 0 counts as 1).
// `u` is a uniform draw from [0, 1).
std::int64_t backoff_seconds(std::uint32_t attempts, const Settings& s, double u);

// The lifetime that applies to a message from `sender` ("" = <>).
std::chrono::seconds queue_lifetime(const std::string& sender, const Settings& s);

// True once the message that arrived at `arrival_us` has lived its lifetime at `now_us`.
bool expired(std::int64_t arrival_us, const std::string& sender, std::int64_t now_us,
             const Settings& s);

// True when delay notices are due for a message that arrived at `arrival_us`.
bool delay_warning_due(std::int64_t arrival_us, std::int64_t now_us, const Settings& s);

// "5 days", "1 hour", "90 seconds": a duration for bounce texts, in the
// largest unit that divides it.
std::string describe_duration(std::chrono::seconds d);

// Postfix's delay notation for log lines: below 10 s two decimals, below
// 100 s one, else whole seconds; trailing zeros dropped ("0.12", "3.5", "0",
// "432000").
std::string format_delay(double seconds);

}  // namespace posthorn::qmgr

// local/delivery_log.h - the delivery line, in Postfix's shape so that
// pflogsumm and other log tools count it (lib/deliver/protocol.h):
//
//   ID: to=<rcpt>, orig_to=<orig>, relay=local, delay=0.12,
//       delays=0.05/0.01/0/0.06, dsn=2.0.0, status=sent (delivered to maildir)
//
// delays are a/b/c/d: a = arrival to qmgr's hand-off, b = in qmgr, c = from
// qmgr's dispatch until this recipient's delivery began (the request in
// transit, the queue file read, earlier recipients of the same request),
// d = this recipient's delivery; delay is their sum, the time from arrival
// to the end of this delivery. orig_to= only when the original differs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/log/log.h"
#include "local/outcome.h"

namespace posthorn::local {

struct Timing {
  std::int64_t arrival_us = 0;   // queue file arrival
  std::int64_t active_us = 0;    // qmgr took the message
  std::int64_t dispatch_us = 0;  // qmgr sent the request
  std::int64_t start_us = 0;     // this recipient's delivery began
  std::int64_t end_us = 0;       // and ended
};

// Seconds as Postfix prints them: two decimals below one second ("0.12",
// "0.04", "0" below 0.005), one below ten ("1.5"), whole seconds from ten
// on ("86"), trailing zeros dropped ("0.1", "3").
std::string format_delay(double seconds);

// The record (event "delivery") for one recipient; missing or out-of-order
// times (0, a clock step) count as no time passing.
log::Record delivery_record(std::string_view queue_id, std::string_view to, std::string_view orig_to,
                            std::string_view relay, const Timing& t, const Outcome& o);

// Microseconds since the epoch, now.
std::int64_t now_us();

}  // namespace posthorn::local

// lib/deliver/delivery_log.h - the per-recipient delivery line every
// delivery agent logs (protocol.h), in Postfix's shape so that pflogsumm
// and other log tools count it:
//
//   ID: to=<rcpt>, orig_to=<orig>, relay=mx.example.org[192.0.2.1]:25,
//       delay=0.4, delays=0.1/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
//
// delays are a/b/c/d: a = arrival to qmgr's hand-off, b = in qmgr, c = from
// qmgr's dispatch until this recipient's delivery began (the request in
// transit, the queue file read; for smtp DNS, connections, greeting, TLS;
// for local earlier recipients of the same request), d = this recipient's
// delivery (smtp: the transaction that decided it); delay is their sum, the
// time from arrival to the end of this delivery. orig_to= only when the
// original differs. Refuses nothing: missing or out-of-order times (0, a
// clock step) count as no time passing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/deliver/protocol.h"
#include "lib/log/log.h"

namespace posthorn::deliver {

struct Timing {
  std::int64_t arrival_us = 0;   // queue file arrival
  std::int64_t active_us = 0;    // qmgr took the message
  std::int64_t dispatch_us = 0;  // qmgr sent the request
  std::int64_t start_us = 0;     // this recipient's delivery began
  std::int64_t end_us = 0;       // and ended

  // The request's three times and the agent's two.
  static Timing of(const Request& req, std::int64_t start_us, std::int64_t end_us) {
    return {req.arrival_us, req.active_us, req.dispatch_us, start_us, end_us};
  }
};

// Seconds as Postfix prints them: two decimals below one second ("0.12",
// "0.04", "0" below 0.005), one below ten ("1.5"), whole seconds from ten
// on ("86"), trailing zeros dropped ("0.1", "3").
std::string format_delay(double seconds);

// The record (event "delivery") for one recipient; `status` is "sent",
// "deferred" or "bounced", `text` goes in parentheses.
log::Record delivery_record(std::string_view queue_id, std::string_view to, std::string_view orig_to,
                            std::string_view relay, const Timing& t, std::string_view dsn,
                            std::string_view status, std::string_view text);

// Microseconds since the epoch, now.
std::int64_t now_us();

}  // namespace posthorn::deliver

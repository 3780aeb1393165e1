// smtp/delivery_log.h - the per-recipient delivery line, in Postfix's shape
// (lib/deliver/protocol.h):
//
//   ID: to=<rcpt>, orig_to=<orig>, relay=mx.example.org[192.0.2.1]:25,
//       delay=0.4, delays=0.1/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
//
// delays a/b/c/d: a = arrival to qmgr's hand-off, b = in qmgr, c = from
// qmgr's dispatch to the start of the transaction that decided this
// recipient (DNS, connections, greeting, TLS), d = that transaction.
// XXX: local/delivery_log.h renders the same line for local; both belong in
// lib/deliver once its owner takes them there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/log/log.h"

namespace posthorn::smtp {

struct Timing {
  std::int64_t arrival_us = 0, active_us = 0, dispatch_us = 0, start_us = 0, end_us = 0;
};

// Seconds as Postfix prints them: "0" below 0.005, two decimals below one
// second, one below ten, whole seconds above; trailing zeros dropped.
std::string delay_text(double seconds);

log::Record delivery_line(std::string_view queue_id, std::string_view to, std::string_view orig_to,
                          std::string_view relay, const Timing& t, std::string_view dsn,
                          std::string_view status, std::string_view text);

std::int64_t wall_us();

}  // namespace posthorn::smtp

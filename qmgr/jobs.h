// qmgr/jobs.h - cutting a message's deliveries into jobs, and mapping an
// agent's answer back onto a job's recipients. Pure functions.
//
// A job is one message and the recipients that share a transport and next
// hop, at most the transport's recipient limit of them
// (TRANSPORT_destination_recipient_limit; 0 = no limit). Groups keep the
// order in which their first delivery appeared, and deliveries keep their
// order inside a group, so recipients are handed over in queue-file order.
//
// Matching an answer: lib/deliver/protocol.h has the agent answer one
// RcptResult per recipient, carrying the recipient's queue-file index. One
// job may hold two deliveries with the same index (a virtual alias that
// expands to two addresses at one destination), so each result takes the
// first delivery with its index that no earlier result took; an agent that
// answers in request order (as every agent does) thus matches exactly. A
// result that matches nothing is ignored, a delivery no result took has no
// answer (the caller defers it as a protocol error).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/deliver/protocol.h"

namespace posthorn::qmgr {

// One delivery, routed: `unit` is the caller's handle for it.
struct Routed {
  std::string transport;
  std::string nexthop;
  std::uint32_t unit = 0;
};

struct JobPlan {
  std::string transport;
  std::string nexthop;
  std::vector<std::uint32_t> units;
  bool operator==(const JobPlan&) const = default;
};

// Groups `routed` by (transport, next hop), cut at recipient_limit(transport).
std::vector<JobPlan> group_jobs(const std::vector<Routed>& routed,
                                const std::function<unsigned(std::string_view)>& recipient_limit);

// For each of `sent` (the request's recipients), the result that answers it,
// or nullptr (see above).
std::vector<const deliver::RcptResult*> match_results(const std::vector<deliver::Rcpt>& sent,
                                                      const std::vector<deliver::RcptResult>& results);

}  // namespace posthorn::qmgr

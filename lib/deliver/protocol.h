// lib/deliver/protocol.h - the "deliver" protocol between qmgr and the
// delivery agents (local, smtp), over lib/ipc (PROTOCOL.md there).
//
// qmgr connects to the agent's socket (private/TRANSPORT, the master.cf
// service named by the transport) and sends one Request per job: one message
// and the recipients that share a transport and next hop. The agent opens the
// queue file itself, read-only (Request::queue names the queue directory, in
// practice active/), delivers, logs one Postfix-shaped line per recipient and
// answers one Reply with exactly one RcptResult per recipient it was given.
//
// Ownership of the queue file: qmgr alone writes queue files and the reason
// logs (lib/queue/reasons.h). An agent never marks a recipient done itself;
// it reports, and qmgr records the outcome before it starts the next attempt
// for that message. A crash of qmgr between the agent's delivery and that
// record repeats the attempt in flight, and nothing more.
//
// The agent logs the delivery line (it knows the relay), in Postfix's shape,
// so that pflogsumm counts it:
//   ID: to=<rcpt>, orig_to=<orig>, relay=R, delay=T, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)
// where, as in Postfix, a = arrival to qmgr's hand-off (arrival_us ..
// active_us), b = in qmgr (active_us .. dispatch_us), c = agent set-up
// (connection, lookups), d = transmission; delay = a+b+c+d, seconds with up
// to 2 decimals. orig_to= only when the original differs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/ipc/frame.h"

namespace posthorn::deliver {

inline const ipc::Protocol kProtocol{"deliver", 1};

// One recipient of a job. `index` is its position in the queue file's
// recipient list (queue::QueueFile::env.recipients), which is how qmgr maps
// the answer back.
struct Rcpt {
  std::uint32_t index = 0;
  std::string address;   // where to deliver (after virtual alias expansion)
  std::string original;  // the address as received, for orig_to= and DSNs ("" = same)
  std::string orcpt;     // RFC 3461 ORCPT "type;addr", "" = none
  std::uint8_t notify = 0;  // queue::kNotify* bits
  void fields(auto& f) {
    f("index", index);
    f("address", address);
    f("original", original);
    f("orcpt", orcpt);
    f("notify", notify);
  }
};

// Outcome of one recipient. status is exactly one of:
//   "sent"     delivered (dsn 2.x.x)
//   "deferred" temporary failure, try again later (dsn 4.x.x)
//   "bounced"  permanent failure (dsn 5.x.x)
// Anything else, or a missing recipient in the reply, counts as deferred with
// the text "delivery agent protocol error" on qmgr's side.
struct RcptResult {
  std::uint32_t index = 0;
  std::string status;
  std::string dsn;   // RFC 3463 "X.Y.Z"
  std::string text;  // the human reason: "250 2.0.0 Ok", "delivered to maildir",
                     // "host mx.example.org[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO command)"
  std::string relay;  // "local", "mx.example.org[192.0.2.1]:25", "none"
  void fields(auto& f) {
    f("index", index);
    f("status", status);
    f("dsn", dsn);
    f("text", text);
    f("relay", relay);
  }
};

struct Reply {
  static constexpr std::string_view kName = "delivered";
  std::vector<RcptResult> results;
  void fields(auto& f) { f("result", results); }
};

struct Request {
  static constexpr std::string_view kName = "deliver";
  using Reply = deliver::Reply;
  std::string queue_id;        // canonical queue ID
  std::string queue = "active";  // queue directory the file is in
  std::string transport;       // master.cf service name ("local", "smtp", "relay", "virtual")
  std::string nexthop;         // "example.org", "[192.0.2.1]:2525", the local host name, ...
  std::string sender;          // envelope sender, "" = <>
  std::int64_t arrival_us = 0;   // from the queue file
  std::int64_t active_us = 0;    // when qmgr took the message into active/
  std::int64_t dispatch_us = 0;  // when qmgr sent this request
  std::vector<Rcpt> rcpts;     // at least one
  void fields(auto& f) {
    f("queue_id", queue_id);
    f("queue", queue);
    f("transport", transport);
    f("nexthop", nexthop);
    f("sender", sender);
    f("arrival_us", arrival_us);
    f("active_us", active_us);
    f("dispatch_us", dispatch_us);
    f("rcpt", rcpts);
  }
};

}  // namespace posthorn::deliver

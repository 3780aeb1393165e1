// lib/dns/exchange.h - one lookup on the wire (private to lib/dns).
//
// The single transport under both front-ends (resolver.h blocks on a private
// event_base, async_resolver.h runs on the caller's). One Exchange:
//   1. tries servers in order, `attempts` rounds: try k asks servers[k % n];
//   2. each try: a fresh connected UDP socket (kernel-chosen random source
//      port; connect() makes the kernel drop datagrams from other
//      addresses), a fresh random id, one query, a timer of cfg.timeout;
//   3. a reply is checked by read_reply(): ignored ones keep us waiting;
//      TC (or a datagram larger than our buffer) repeats the try over TCP
//      to the same server (RFC 7766 5) with a fresh timer;
//   4. SERVFAIL/REFUSED/other rcodes, malformed replies, ICMP errors and
//      time-outs move on to the next try; any final answer (found,
//      NXDOMAIN, NODATA, null MX) ends the lookup at once;
//   5. when tries run out, the most telling failure is reported: a server's
//      rcode or a malformed reply over a plain time-out.
// The callback runs exactly once, always from the event loop (never from
// start()), and only if the Exchange is not destroyed first. It may destroy
// the Exchange.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lib/base/fd.h"
#include "lib/dns/answer.h"
#include "lib/dns/config.h"

namespace posthorn::dns {

class Exchange {
 public:
  using Done = std::function<void(Answer)>;
  // `base` must outlive this object.
  Exchange(event_base* base, std::shared_ptr<const Config> cfg, std::string name, RrType type,
           Done done);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  void start();

 private:
  using EventPtr = Owned<event, event_free>;
  static void on_io(evutil_socket_t, short, void* self);
  static void on_timer(evutil_socket_t, short, void* self);

  void next_try();
  bool open_udp();
  void start_tcp();
  bool watch(short what);
  void udp_readable();
  void tcp_writable();
  void tcp_readable();
  bool take(std::string_view wire, bool over_tcp);
  void fail_try(Status s, std::string detail);
  void record(Answer a);
  void finish(Answer a);
  void close_io();
  Answer make_answer(Status s, std::string detail) const;
  const NameServer& server() const { return cfg_->servers[server_]; }

  event_base* base_;
  std::shared_ptr<const Config> cfg_;
  std::string name_;
  RrType type_;
  Done done_;
  std::string query_;       // wire form of the current try's query
  std::uint16_t id_ = 0;    // its id
  unsigned tries_ = 0;      // tries started
  std::size_t server_ = 0;  // index of the server of the current try
  Fd fd_;
  EventPtr io_;
  EventPtr timer_;
  bool tcp_ = false;
  bool tcp_connected_ = false;
  std::string tcp_out_;  // length-prefixed query still to write (RFC 1035 4.2.2)
  std::string tcp_in_;   // bytes of the reply so far
  Answer failure_;       // the most telling failure so far
  bool in_start_ = false;
  std::unique_ptr<Answer> pending_;  // a result decided in start(), delivered by the timer
};

}  // namespace posthorn::dns

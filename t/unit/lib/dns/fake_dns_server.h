// t/unit/lib/dns/fake_dns_server.h - a small DNS server on 127.0.0.1 for tests.
//
// Serves a table of zone data (records in presentation format, parsed by
// ldns) over UDP and TCP on one ephemeral loopback port, from its own
// thread. It answers like a recursive server would: CNAME chains are
// followed inside the table, a name with no record of the asked type is
// NODATA, an unknown name NXDOMAIN. Per-name quirks make it misbehave in the
// ways a resolver must survive. Nothing is ever sent beyond loopback.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/fd.h"
#include "lib/dns/config.h"

namespace posthorn::dns::test {

enum class Quirk {
  servfail,          // rcode SERVFAIL
  refused,           // rcode REFUSED
  silent,            // never answers
  truncate,          // UDP: TC set and no records; TCP: the full answer
  always_truncate,   // TC set over TCP too
  spoof_first,       // UDP: first a reply with a wrong id, then one for another
                     // name, then one with the wrong type, then the real one
  malformed,         // a reply with the right id that does not parse
  authenticated,     // the AD bit set
  oversized,         // UDP reply ignores the advertised EDNS size (padded past 4 KB)
  wrong_source,      // UDP reply sent from another port than the one asked
  truncate_dribble,  // like truncate, and the TCP reply goes out one byte per write
};

class FakeDnsServer {
 public:
  // `records`: e.g. "example.test. 300 IN MX 10 mx1.example.test."; throws
  // std::runtime_error on a record ldns cannot parse or a socket failure.
  explicit FakeDnsServer(const std::vector<std::string>& records);
  ~FakeDnsServer();
  FakeDnsServer(const FakeDnsServer&) = delete;
  FakeDnsServer& operator=(const FakeDnsServer&) = delete;

  // Quirks are keyed by the asked name, lower case without trailing dot.
  void set_quirk(const std::string& name, Quirk q);

  unsigned port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // A config that asks only this server, with a short timeout for tests.
  Config config(std::chrono::milliseconds timeout = std::chrono::milliseconds(200),
                unsigned attempts = 1) const;

  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }
  bool last_query_had_do() const { return last_do_; }
  unsigned last_query_edns_size() const { return last_edns_size_; }

 private:
  void run();
  void serve_udp();
  void serve_tcp();
  std::optional<Quirk> quirk_of(const std::string& query);
  // The reply datagrams to send for one query (none for `silent`).
  std::vector<std::string> respond(const std::string& query, bool over_tcp);

  struct Zone;
  std::unique_ptr<Zone> zone_;
  std::mutex mu_;
  std::map<std::string, Quirk> quirks_;
  Fd udp_, tcp_, wake_read_, wake_write_;
  unsigned port_ = 0;
  std::atomic<int> udp_queries_{0}, tcp_queries_{0};
  std::atomic<bool> last_do_{false};
  std::atomic<unsigned> last_edns_size_{0};
  std::thread thread_;
};

}  // namespace posthorn::dns::test

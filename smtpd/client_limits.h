// smtpd/client_limits.h - how many sessions, and how many new connections a
// time unit, one client address may have (Postfix's
// smtpd_client_connection_count_limit and smtpd_client_connection_rate_limit).
//
// Purpose:    one client must not take every session an smtpd process can
//             serve, nor reconnect as fast as it likes.
// Guarantees: - counts are kept per smtpd process (Postfix keeps them
//               across processes in anvil(8)); a client's sessions spread
//               over several processes are each counted in their own;
//             - addresses in smtpd_client_event_limit_exceptions (default
//               $mynetworks) are never limited or counted;
//             - every connection attempt of a limited client counts towards
//               its rate, refused ones included, as in Postfix; the rate is
//               counted in fixed windows of anvil_rate_time_unit;
//             - memory is bounded by the clients seen in the last time unit
//               plus those with sessions open: stale entries are dropped.
// Use:        admit() at accept time; a Slot it returns releases the
//             session's count when destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "smtpd/networks.h"

namespace posthorn::smtpd {

class ClientLimits {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    std::size_t count_limit = 50;  // 0 = none
    std::size_t rate_limit = 0;    // 0 = none
    std::chrono::seconds rate_unit{60};
    std::vector<Network> exceptions;
  };

  // Holds one admitted session's place in its client's count. Move-only.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), addr_(std::move(o.addr_)) {}
    Slot& operator=(Slot&& o) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    friend class ClientLimits;
    Slot(ClientLimits* owner, std::string addr) : owner_(owner), addr_(std::move(addr)) {}
    void release();
    ClientLimits* owner_ = nullptr;
    std::string addr_;
  };

  enum class Verdict { ok, too_many, too_fast };
  struct Admission {
    Verdict verdict = Verdict::ok;
    std::size_t count = 0;  // the client's sessions (too_many) or connections this unit (too_fast)
    Slot slot;              // with ok: release by destroying it
  };

  explicit ClientLimits(Settings s) : s_(std::move(s)) {}
  ClientLimits(const ClientLimits&) = delete;
  ClientLimits& operator=(const ClientLimits&) = delete;

  // A new connection from `addr` at `now`. Slots must not outlive this object.
  Admission admit(const std::string& addr, Clock::time_point now = Clock::now());
  // Sessions of `addr` now counted (0 for an exempt or unknown address).
  std::size_t sessions(const std::string& addr) const;
  std::size_t tracked() const { return clients_.size(); }

 private:
  struct Entry {
    std::size_t sessions = 0;
    Clock::time_point window_start{};
    std::size_t window_count = 0;
  };
  void release(const std::string& addr);
  void prune(Clock::time_point now);

  Settings s_;
  std::unordered_map<std::string, Entry> clients_;
  std::size_t prune_at_ = 1024;  // map size that triggers the next prune
};

}  // namespace posthorn::smtpd

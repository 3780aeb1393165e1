// qmgr/settings.h - qmgr's typed, read-only view of main.cf and master.cf.
//
// Built once after the privilege drop (STYLE.md section 2) and passed by
// const reference. Per-transport values follow Postfix's naming:
// TRANSPORT_destination_concurrency_limit, TRANSPORT_destination_recipient_limit
// and TRANSPORT_destination_concurrency_failed_cohort_limit override the
// default_... parameters for the master.cf service TRANSPORT; the process
// limit of a transport is its service's maxproc column.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace posthorn::config {
class Config;
}

namespace posthorn::qmgr {

// What one transport (a master.cf unix service) allows.
struct TransportLimits {
  unsigned process_limit = 100;       // deliveries in flight; 0 = no limit
  unsigned concurrency_limit = 20;    // per destination; 0 = no limit
  unsigned recipient_limit = 50;      // recipients per job; 0 = no limit
  unsigned initial_concurrency = 5;   // slow start begins here
  unsigned failed_cohort_limit = 1;   // failed cohorts before a destination is dead
};

struct Settings {
  std::size_t message_active_limit = 20000;    // messages in memory
  std::size_t message_recipient_limit = 20000; // recipients in memory (see scheduler.h)
  std::chrono::seconds ipc_timeout{60};         // a silent client of public/qmgr; never a delivery
  std::chrono::seconds min_backoff{300};
  std::chrono::seconds max_backoff{4000};
  std::chrono::seconds queue_run_delay{300};
  std::chrono::seconds max_queue_lifetime{5 * 86400};
  std::chrono::seconds bounce_queue_lifetime{5 * 86400};
  std::chrono::seconds delay_warning_time{0};  // 0 = no delay notices
  std::chrono::seconds transport_retry_time{60};
  bool soft_bounce = false;
  std::string myhostname;
  TransportLimits defaults;           // for transports master.cf does not name
  std::map<std::string, TransportLimits, std::less<>> transports;

  static Settings from_config(const config::Config& cfg);
  const TransportLimits& transport(std::string_view name) const;
};

}  // namespace posthorn::qmgr

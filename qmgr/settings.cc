// qmgr/settings.cc - see settings.h.
#include "qmgr/settings.h"

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/config/config.h"

namespace posthorn::qmgr {
namespace {

unsigned count_param(const config::Config& cfg, const std::string& name, const std::string& fallback) {
  long long v = cfg.is_known(name) ? cfg.get_int(name) : cfg.get_int(fallback);
  return static_cast<unsigned>(std::clamp<long long>(v, 0, 1'000'000));
}

TransportLimits limits_for(const config::Config& cfg, const std::string& transport,
                           const config::Service* svc) {
  TransportLimits t;
  // A service-specific name is known only for services master.cf has
  // (config.h); for others the default_ parameter applies.
  t.concurrency_limit = count_param(cfg, cat(transport, "_destination_concurrency_limit"),
                                    "default_destination_concurrency_limit");
  t.recipient_limit = count_param(cfg, cat(transport, "_destination_recipient_limit"),
                                  "default_destination_recipient_limit");
  t.failed_cohort_limit =
      std::max(1u, count_param(cfg, cat(transport, "_destination_concurrency_failed_cohort_limit"),
                               "default_destination_concurrency_failed_cohort_limit"));
  t.initial_concurrency =
      std::max(1u, count_param(cfg, "initial_destination_concurrency", "initial_destination_concurrency"));
  long long maxproc = cfg.get_int("default_process_limit");
  if (svc && svc->maxproc) maxproc = *svc->maxproc;
  t.process_limit = static_cast<unsigned>(std::clamp<long long>(maxproc, 0, 1'000'000));
  return t;
}

}  // namespace

Settings Settings::from_config(const config::Config& cfg) {
  Settings s;
  auto secs = [&](const char* name) { return std::chrono::seconds(cfg.get_time(name)); };
  s.message_active_limit = static_cast<std::size_t>(cfg.get_int("qmgr_message_active_limit"));
  s.message_recipient_limit = static_cast<std::size_t>(cfg.get_int("qmgr_message_recipient_limit"));
  s.ipc_timeout = secs("qmgr_ipc_timeout");
  s.min_backoff = secs("minimal_backoff_time");
  s.max_backoff = std::max(s.min_backoff, secs("maximal_backoff_time"));
  s.queue_run_delay = secs("queue_run_delay");
  s.max_queue_lifetime = secs("maximal_queue_lifetime");
  s.bounce_queue_lifetime = secs("bounce_queue_lifetime");
  s.delay_warning_time = secs("delay_warning_time");
  s.transport_retry_time = secs("transport_retry_time");
  s.soft_bounce = cfg.get_bool("soft_bounce");
  s.myhostname = cfg.get("myhostname");
  s.defaults = limits_for(cfg, "default", nullptr);
  for (const config::Service& svc : cfg.services())
    if (svc.type == config::ServiceType::unix_stream)
      s.transports[svc.name] = limits_for(cfg, svc.name, &svc);
  return s;
}

const TransportLimits& Settings::transport(std::string_view name) const {
  auto it = transports.find(name);
  return it == transports.end() ? defaults : it->second;
}

}  // namespace posthorn::qmgr

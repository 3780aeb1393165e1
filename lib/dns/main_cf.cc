// lib/dns/main_cf.cc - see main_cf.h.
#include "lib/dns/main_cf.h"

#include <algorithm>
#include <stdexcept>

#include "lib/config/config.h"
#include "lib/log/log.h"

namespace posthorn::dns {

Config config_from_main_cf(const config::Config& cfg) {
  Config dc;
  const std::string list = cfg.get("dns_nameservers");
  if (!list.empty()) {
    auto c = config_from_list(list);
    if (!c) throw std::runtime_error(c.error().detail);
    dc = std::move(*c);
  } else if (auto rc = load_resolv_conf()) {
    for (const std::string& w : rc->warnings) log::warn(w);
    dc = std::move(rc->config);
  } else {
    log::warn("cannot read /etc/resolv.conf: ", rc.error().detail, "; asking 127.0.0.1");
    dc = parse_resolv_conf("").config;
  }
  dc.timeout = std::chrono::milliseconds(cfg.get_time("dns_timeout") * 1000);
  dc.attempts = static_cast<unsigned>(std::max<long long>(1, cfg.get_int("dns_retry_count")));
  return dc;
}

}  // namespace posthorn::dns

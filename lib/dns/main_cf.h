// lib/dns/main_cf.h - the resolver settings main.cf gives a daemon:
// dns_nameservers (else /etc/resolv.conf), dns_timeout, dns_retry_count.
#pragma once

#include "lib/dns/config.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::dns {

// Errors: a bad dns_nameservers entry throws std::runtime_error (startup
// code: the daemon stops with that line). An unreadable resolv.conf is a
// warning in the log and 127.0.0.1 is asked, as glibc does.
Config config_from_main_cf(const config::Config& cfg);

}  // namespace posthorn::dns

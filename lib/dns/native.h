// lib/dns/native.h - host addresses from the system's own name service
// (getaddrinfo: /etc/hosts, nsswitch.conf, and whatever resolver the C
// library is set up with), as an Answer, for smtp_host_lookup = native on
// hosts without a usable DNS set-up (Postfix's "native" lookups).
//
// Only A and AAAA: the C library answers no MX question. The outcome maps
// onto Answer's statuses so that callers decide as they do for DNS:
//   EAI_NONAME -> nxdomain, EAI_NODATA / EAI_ADDRFAMILY / no address of the
//   family -> nodata, EAI_AGAIN -> server_failure (temporary), any other
//   error -> local_error (temporary); a bad name -> bad_name.
// The call blocks for as long as the C library takes (for /etc/hosts, no
// time at all; a libc resolver has its own time-outs): meant for processes
// that do one job at a time, like lib/dns/resolver.h.
#pragma once

#include <string_view>

#include "lib/dns/answer.h"

namespace posthorn::dns {

// The addresses of `name` of `type` (RrType::a or RrType::aaaa; any other
// type is bad_name), in the order the C library gives them, duplicates
// removed. `authenticated` is never set.
Answer native_lookup(std::string_view name, RrType type);

}  // namespace posthorn::dns

// master/listen.h - the listening sockets master binds for a service.
//
// inet: "host:port" binds that host's addresses; "*:port" or a bare port
// binds every address of inet_interfaces ("all": the IPv4 and IPv6
// wildcards; "loopback-only": 127.0.0.1 and ::1; otherwise numeric
// addresses or names). inet_protocols (all, ipv4, ipv6) filters the
// families. IPv6 sockets are IPV6_V6ONLY, so the IPv4 and IPv6 wildcards
// are two sockets. When inet_protocols is "all" and this host has no IPv6
// at all, the IPv6 wildcard is skipped with a warning.
// unix: queue_directory/private/NAME (private = y) or public/NAME, mode
// 0666: the directory's mode is the access control (lib/queue/spool.h).
// Every socket is non-blocking and close-on-exec; master dup2()s it into
// each child at the descriptor numbers of lib/service/status.h.
#pragma once

#include <string>
#include <vector>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/config/config.h"

namespace posthorn::master {

struct Bound {
  std::vector<Fd> fds;
  std::string where;  // "127.0.0.1:2525 [::1]:2525" or the socket path: logs, reload
};

// What open_listeners() would bind, without binding ("" for an unsupported
// type). Reload compares it with the running service's `where`.
std::string listen_plan(const config::Service& s, const config::Config& cfg);

// Binds the sockets of `s`. Errors name the service and the address:
// Errc::busy (address in use), Errc::unsupported (service type master does
// not run: unix-dgram, fifo, pass), Errc::io, Errc::invalid.
Result<Bound> open_listeners(const config::Service& s, const config::Config& cfg);

}  // namespace posthorn::master

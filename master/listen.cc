// master/listen.cc - see listen.h.
#include "master/listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "lib/base/strings.h"
#include "lib/ipc/unix_socket.h"
#include "lib/log/log.h"

namespace posthorn::master {

namespace {

// Connections the kernel queues while no child is accepting (a child
// retiring at max_use, the next one still starting). A connection that finds
// the queue full has its SYN dropped, and its client waits a second or more
// to retry: with 128, a burst of 200 clients lost whole seconds that way.
// The kernel caps this at net.core.somaxconn (4096 on current kernels).
constexpr int kBacklog = 4096;

struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  bool wildcard6 = false;  // optional: skipped with a warning when the host lacks IPv6
};

std::string addr_text(const Addr& a) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (a.ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&a.ss);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return cat(host, ":", port);
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  port = ntohs(in6->sin6_port);
  return cat("[", host, "]:", port);
}

struct Families {
  bool v4 = true;
  bool v6 = true;
};

Families families(const config::Config& cfg) {
  Families f{false, false};
  for (const auto& p : cfg.get_list("inet_protocols")) {
    if (iequals(p, "all")) f = {true, true};
    if (iequals(p, "ipv4")) f.v4 = true;
    if (iequals(p, "ipv6")) f.v6 = true;
  }
  if (!f.v4 && !f.v6) f = {true, true};
  return f;
}

Result<void> resolve(const std::string& host, unsigned port, Families fam, std::vector<Addr>& out) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = fam.v4 && fam.v6 ? AF_UNSPEC : fam.v4 ? AF_INET : AF_INET6;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return make_error(Errc::invalid, cat("address ", host, ": ", ::gai_strerror(rc)));
  Owned<addrinfo, ::freeaddrinfo> owned(res);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Addr a;
    std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    out.push_back(a);
  }
  return {};
}

// "all" (0.0.0.0 and ::) or "loopback-only" (127.0.0.1 and ::1). With both
// families wanted, the IPv6 one is optional: hosts without IPv6 still start.
Result<void> wildcards(bool all, unsigned port, Families fam, std::vector<Addr>& out) {
  if (fam.v4)
    if (auto r = resolve(all ? "0.0.0.0" : "127.0.0.1", port, {true, false}, out); !r) return r;
  if (!fam.v6) return {};
  std::size_t before = out.size();
  if (auto r = resolve(all ? "::" : "::1", port, {false, true}, out); !r) return r;
  for (std::size_t i = before; i < out.size(); ++i) out[i].wildcard6 = fam.v4;
  return {};
}

Result<std::vector<Addr>> inet_addresses(const config::Service& s, const config::Config& cfg) {
  Families fam = families(cfg);
  std::vector<std::string> hosts;
  if (s.host.empty() || s.host == "*")
    hosts = cfg.get_list("inet_interfaces");
  else
    hosts = {s.host};
  std::vector<Addr> out;
  for (const std::string& h : hosts) {
    if (iequals(h, "all") || iequals(h, "loopback-only")) {
      bool all = iequals(h, "all");
      if (auto r = wildcards(all, s.port, fam, out); !r) return std::move(r).error();
      continue;
    }
    if (auto r = resolve(h, s.port, fam, out); !r) return std::move(r).error();
  }
  return out;
}

// One listening socket; an empty Fd when an optional IPv6 address cannot
// be had on this host.
Result<Fd> bind_one(const Addr& a) {
  Fd fd(::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    if (a.wildcard6 && errno == EAFNOSUPPORT) return Fd();
    return sys_error(cat("socket for ", addr_text(a)));
  }
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.ss.ss_family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) {
    if (a.wildcard6 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) return Fd();
    Error e = sys_error(cat("bind ", addr_text(a)));
    if (errno == EADDRINUSE) e.code = Errc::busy;
    return e;
  }
  if (::listen(fd.get(), kBacklog) != 0) return sys_error(cat("listen ", addr_text(a)));
  return fd;
}

std::string unix_path(const config::Service& s, const config::Config& cfg) {
  return (cfg.get_path("queue_directory") / (s.is_private ? "private" : "public") / s.name).string();
}

}  // namespace

std::string listen_plan(const config::Service& s, const config::Config& cfg) {
  if (s.type == config::ServiceType::unix_stream) return unix_path(s, cfg);
  if (s.type != config::ServiceType::inet) return {};
  auto addrs = inet_addresses(s, cfg);
  if (!addrs) return cat("unresolvable ", s.name);
  std::vector<std::string> parts;
  for (const Addr& a : *addrs) parts.push_back(addr_text(a));
  return join(parts, " ");
}

Result<Bound> open_listeners(const config::Service& s, const config::Config& cfg) {
  Bound b;
  if (s.type == config::ServiceType::unix_stream) {
    b.where = unix_path(s, cfg);
    auto fd = ipc::listen_unix(b.where, 0666, kBacklog);
    if (!fd) return std::move(fd).error();
    b.fds.push_back(std::move(*fd));
    return b;
  }
  if (s.type != config::ServiceType::inet)
    return make_error(Errc::unsupported, cat("service type ", s.type_name, " is not supported"));
  auto addrs = inet_addresses(s, cfg);
  if (!addrs) return std::move(addrs).error();
  std::vector<std::string> where;
  for (const Addr& a : *addrs) {
    auto fd = bind_one(a);
    if (!fd) return std::move(fd).error();
    if (!*fd) {
      log::warn("service ", s.key(), ": no IPv6 on this host; not listening on ", addr_text(a));
      continue;
    }
    where.push_back(addr_text(a));
    b.fds.push_back(std::move(*fd));
  }
  if (b.fds.empty()) return make_error(Errc::invalid, cat("service ", s.key(), ": no address to listen on"));
  b.where = join(where, " ");
  return b;
}

}  // namespace posthorn::master

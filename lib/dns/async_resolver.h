// lib/dns/async_resolver.h - event-driven DNS lookups for daemons (smtpd).
//
// Many lookups run at once on the caller's libevent loop; none blocks. Each
// has its own timer (config timeout x attempts x servers at most, plus one
// TCP retry per truncated reply) and ends in exactly one callback with an
// Answer (answer.h). Dropping the Lookup handle cancels the query: sockets
// and timers are released and the callback is never called. The transport
// and its guarantees are described in exchange.h.
//
//   AsyncResolver dns(base, config);
//   session.lookup = dns.query(client_name, RrType::a, [this](dns::Answer a) { ... });
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "lib/dns/answer.h"
#include "lib/dns/config.h"

struct event_base;

namespace posthorn::dns {

class Exchange;

// The handle of one lookup in flight. Move-only; destroying it (or assigning
// over it) cancels the lookup if it has not completed.
class [[nodiscard]] Lookup {
 public:
  Lookup() noexcept;
  explicit Lookup(std::unique_ptr<Exchange> x) noexcept;
  Lookup(Lookup&&) noexcept;
  Lookup& operator=(Lookup&&) noexcept;
  ~Lookup();
  // True until the callback has run or the lookup was cancelled.
  bool pending() const noexcept;
  void cancel() noexcept;

 private:
  std::unique_ptr<Exchange> x_;
  std::shared_ptr<bool> done_;  // set by the callback wrapper before it calls the user's
  friend class AsyncResolver;
};

class AsyncResolver {
 public:
  using Callback = std::function<void(Answer)>;
  // `base` is borrowed and must outlive this resolver and every Lookup it
  // returned. The config is copied; every Lookup shares that copy, so a
  // Lookup may also outlive the resolver.
  AsyncResolver(event_base* base, Config config);

  // Starts a lookup of `name` (fully qualified; trailing dot optional) for
  // `type`. `cb` runs once from the event loop - never from within query() -
  // with the Answer, unless the Lookup is destroyed first. The callback may
  // destroy the Lookup. Bad names and missing servers also arrive through
  // the callback (Status::bad_name, Status::local_error).
  Lookup query(std::string_view name, RrType type, Callback cb);

  const Config& config() const { return *config_; }

 private:
  event_base* base_;
  std::shared_ptr<const Config> config_;
};

}  // namespace posthorn::dns

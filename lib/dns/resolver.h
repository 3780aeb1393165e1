// lib/dns/resolver.h - blocking DNS lookups for one-job-at-a-time processes (smtp).
//
// Resolver::query() sends the query and waits for its Answer (answer.h).
// It runs the same transport as AsyncResolver (exchange.h) on a private
// event loop, so both front-ends behave identically: UDP with a random id
// and source port, TCP after truncation, retries across servers, replies
// checked against the question. The longest wait is about
// timeout x attempts x servers (plus one TCP wait per truncated reply).
//
// Mail lookups never apply resolv.conf's search list (config.h).
//
//   auto rc = dns::load_resolv_conf();           // or dns::config_from_list(dns_nameservers)
//   dns::Resolver dns(rc->config);
//   dns::Answer mx = dns.query("example.org", dns::RrType::mx);
//   if (mx.status == dns::Status::nodata) { /* implicit MX: ask A and AAAA */ }
#pragma once

#include <event2/event.h>

#include <string_view>

#include "lib/base/fd.h"
#include "lib/dns/answer.h"
#include "lib/dns/async_resolver.h"
#include "lib/dns/config.h"

namespace posthorn::dns {

class Resolver {
 public:
  // Throws std::runtime_error when libevent cannot create an event loop
  // (an environment failure at startup).
  explicit Resolver(Config config);

  // Looks up `type` records of `name` (fully qualified; trailing dot
  // optional) and returns when there is an outcome. Never throws on DNS or
  // network trouble: every outcome is an Answer. Not reentrant; one
  // Resolver per thread.
  Answer query(std::string_view name, RrType type);

  const Config& config() const { return async_.config(); }

 private:
  Owned<event_base, event_base_free> base_;
  AsyncResolver async_;
};

}  // namespace posthorn::dns

// smtpd/peername.h - the client's host name, as Postfix finds it: the PTR
// record of its address, then a forward lookup (A or AAAA) of that name
// that must lead back to the address ("forward-confirmed").
//
// Result (ClientIdentity): name = the confirmed name, or "unknown";
// reverse_name = the PTR name even when it is not confirmed, or "unknown";
// name_tempfail = a lookup failed temporarily (the unknown_* restrictions
// then defer instead of reject). Only the first PTR name is tried.
// The hosts file comes first, as for the C library's gethostbyaddr(): an
// address it lists is named by it (and confirmed when that name is listed
// with the address), with no DNS query; so 127.0.0.1 is "localhost" on a
// host without a DNS server.
// Asynchronous: nothing blocks; destroying the PeerName cancels its lookup.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lib/dns/async_resolver.h"
#include "lib/dns/hosts.h"
#include "smtpd/policy.h"

namespace posthorn::smtpd {

class PeerName {
 public:
  using Query = std::function<dns::Lookup(std::string_view, dns::RrType, std::function<void(dns::Answer)>)>;
  using Done = std::function<void(ClientIdentity)>;
  // `query` starts a lookup (dns::AsyncResolver::query or a test's fake);
  // `hosts`, if any, must outlive the PeerName.
  explicit PeerName(Query query, const dns::HostsFile* hosts = nullptr)
      : query_(std::move(query)), hosts_(hosts) {}

  // Starts the lookups for `addr`; `done` runs once, from a DNS callback
  // (at once when `addr` cannot be reversed or the hosts file names it:
  // then from inside start()).
  void start(const std::string& addr, Done done);

 private:
  void ptr_answer(dns::Answer a);
  void forward_answer(dns::Answer a);

  Query query_;
  const dns::HostsFile* hosts_;
  Done done_;
  ClientIdentity id_;
  dns::Lookup lookup_;
};

}  // namespace posthorn::smtpd

// lib/resolve/resolve.h - where a recipient goes: Postfix's trivial-rewrite
// "resolve" and qmgr's virtual alias step, as one library for qmgr (and for
// smtpd's recipient checks).
//
// Purpose:    turn one envelope recipient into the list of (transport,
//             next hop, final recipient) it means, under main.cf.
// Guarantees: the answer depends only on the address, main.cf and the
//             tables' contents; a table that cannot be read gives a
//             temporary failure (the message is deferred), never a guess.
// Refusals:   no DNS, no account database writes; local aliases and
//             .forward are local(8)'s job, not this one (as in Postfix:
//             qmgr hands local@mydestination to local, which expands them).
//
// Order, for address A = user[+ext]@domain (no domain: @myorigin is added;
// domains compared case-insensitively, a trailing dot ignored):
//   1. virtual_alias_maps (lib/maps lookup_address, recipient_delimiter,
//      propagate_unmatched_extensions "virtual"), recursively: each result
//      (comma/space separated list) is resolved again, up to
//      virtual_alias_recursion_limit deep and virtual_alias_expansion_limit
//      addresses in all (over either: a temporary failure 4.3.0 "virtual
//      alias table recursion/expansion limit exceeded", as Postfix). An
//      address that maps to itself is kept, not expanded again. Duplicate
//      results are dropped.
//   2. the address class, by domain:
//        mydestination (or a domain that is inet_interfaces' [literal])
//              -> local:   local_transport (default local:$myhostname)
//        virtual_alias_domains with no virtual alias match
//              -> bounce 5.1.1 "User unknown in virtual alias table"
//        virtual_mailbox_domains -> virtual: virtual_transport
//        relay_domains            -> relay:   relay_transport
//        anything else            -> default: default_transport
//   3. transport_maps (full address forms, then domain and parents as
//      Postfix's transport(5): user+ext@domain, user@domain, domain,
//      .parent...) override the transport and/or the next hop of step 2
//      ("smtp:" keeps the next hop, ":[host]" keeps the transport).
//   4. next hop: from the transport value "transport:nexthop" when given;
//      else relayhost for the default and relay classes when set; else the
//      recipient's domain (local: $myhostname).
//   5. "error:text" -> permanent failure, dsn 5.0.0 (or the X.Y.Z the text
//      starts with), text as given; "retry:text" -> temporary failure;
//      "discard:text" -> discard (delivered without delivery, logged).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::resolve {

enum class AddressClass { local, virtual_mailbox, relay, default_ };

// One final destination of a recipient.
struct Destination {
  std::string recipient;   // the address to deliver to, after virtual aliasing
  AddressClass cls = AddressClass::default_;
  std::string transport;   // "local", "smtp", "relay", "virtual", "error", "retry", "discard"
  std::string nexthop;     // "example.org", "[192.0.2.1]:2525", or the error/discard text
  bool operator==(const Destination&) const = default;
};

// What one envelope recipient resolves to. When `failed`, no destination is
// given and the recipient is deferred (temporary) or bounced with dsn/text.
struct Resolution {
  std::vector<Destination> destinations;
  bool failed = false;
  bool temporary = false;
  std::string dsn;   // "4.3.0", "5.1.1"
  std::string text;  // "User unknown in virtual alias table"
};

class Resolver {
 public:
  // Opens every table main.cf names for resolution (virtual_alias_maps,
  // transport_maps, virtual_mailbox_maps for the domain list) and reads the
  // domain lists. Errors: a table that cannot be opened (Errc::not_found,
  // Errc::io, Errc::unsupported), with the parameter named in the detail.
  static Result<Resolver> from_config(const config::Config& cfg);

  Resolver(Resolver&&) noexcept;
  Resolver& operator=(Resolver&&) noexcept;
  ~Resolver();

  // Resolves `address` (envelope recipient without angle brackets). Never
  // throws; table errors become a temporary failure with dsn 4.3.0.
  Resolution resolve(std::string_view address) const;

  // Only the class of a domain (no tables but the domain lists), for smtpd.
  AddressClass classify_domain(std::string_view domain) const;

 private:
  struct Impl;
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::resolve

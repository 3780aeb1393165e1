// lib/resolve/resolve.h - where a recipient goes: Postfix's trivial-rewrite
// "resolve" and qmgr's virtual alias step, as one library for qmgr (and for
// smtpd's recipient checks).
//
// Purpose:    turn one envelope recipient into the list of (transport,
//             next hop, final recipient) it means, under main.cf.
// Guarantees: the answer depends only on the address, main.cf and the
//             tables' contents; a table that cannot be read gives a
//             temporary failure (the message is deferred), never a guess.
//             Tables are opened once, by from_config(); resolve() opens
//             nothing, does no system call but the table lookups, and is
//             safe to call from one thread at a time per Resolver.
// Refusals:   no DNS, no account database writes; local aliases and
//             .forward are local(8)'s job, not this one (as in Postfix:
//             qmgr hands local@mydestination to local, which expands them).
//             The percent hack and bang paths are not interpreted (see
//             lib/address): "a%b@relay" goes to relay.
//
// Order, for address A = user[+ext]@domain. First the address is made
// canonical: a trailing dot after the domain is dropped, the domain is
// compared in lower case; an empty address is $empty_address_recipient; an
// address without a domain gets @$myorigin, except that a bare "postmaster"
// (any case) is always delivered locally (RFC 5321 4.5.1), whatever the
// class of $myorigin.
//   1. virtual_alias_maps, recursively. Each address is looked up in
//      Postfix's virtual(5) order: user+ext@domain, user@domain, user+ext
//      and user (only when domain is $myorigin, in $mydestination or an
//      [address] of $inet_interfaces/$proxy_interfaces), @domain. Each key
//      form is tried in every table before the next form (so the first
//      table does not win with a weaker form); regexp and other pattern
//      tables see the whole address only. A match that left out the
//      extension passes it on to each result when
//      propagate_unmatched_extensions has "virtual". The value is a list of
//      addresses separated by commas and/or white space (a result without a
//      domain gets @$myorigin), and each is resolved again:
//        - an address whose results include itself (a -> a, b) is kept as
//          a final recipient, not expanded again, wherever it appears;
//        - an address that comes back below itself (a -> b -> a) is a loop:
//          temporary failure 4.3.0 "Virtual alias loop" (Postfix defers it
//          too, by running into its recursion limit);
//        - an address that still matches at depth
//          virtual_alias_recursion_limit (the number of alias steps from
//          the recipient), or an expansion that holds more than
//          virtual_alias_expansion_limit addresses (final and pending) at
//          any time: temporary failure 4.3.0 "Virtual alias table recursion
//          limit exceeded" / "... expansion limit exceeded", as Postfix
//          defers them;
//        - duplicate final recipients are dropped (the first stays).
//   2. the address class of each final recipient, by its domain:
//        mydestination (or an [address] literal of inet_interfaces or
//        proxy_interfaces; "all" is every address of this host's
//        interfaces)   -> local:           local_transport (local:$myhostname)
//        virtual_alias_domains (no virtual alias matched the address)
//                      -> virtual_alias:   error, "5.1.1 User unknown in
//                                          virtual alias table" (final: step
//                                          3 does not change it, as Postfix)
//        virtual_mailbox_domains -> virtual_mailbox: virtual_transport
//        relay_domains           -> relay:           relay_transport
//        anything else           -> default_:        default_transport
//      Domain lists are Postfix match lists: names, ".name" for the
//      subdomains of name, "type:name" tables (the domain, then its parents
//      as ".parent"; bare "parent" when the parameter is listed in
//      parent_domain_matches_subdomains, which also lets a plain name match
//      its subdomains), "!pattern" to exclude, and "/file" for a file of
//      such patterns. The first pattern that matches decides.
//   3. transport_maps, in transport(5)'s order, each key in every table
//      before the next: user+ext@domain (pattern tables see only this
//      one), user@domain, domain, then its parents (".parent", or "parent"
//      when parent_domain_matches_subdomains lists transport_maps), then
//      "*" (read when the tables are opened and by refresh(), as Postfix
//      caches it). Final recipients of one resolve() in the same domain
//      share the domain's answer. The value is "transport:nexthop":
//        ":" or ""       nothing changes;
//        "smtp:"         the transport changes, the next hop becomes the
//                        recipient's domain;
//        ":[host]:25"    the transport stays, the next hop changes;
//        "smtp:[host]"   both change. A value without a colon is a
//                        transport alone ("smtp" = "smtp:").
//   4. next hop when neither step 3 nor the class's transport parameter
//      ("relay:[gw.example]") gives one: local: $myhostname; virtual:
//      the recipient's domain; relay and default: relayhost when set
//      (host, [host], host:port, [host]:port, or a list of those), else the
//      recipient's domain.
//   5. the "error", "retry" and "discard" transports are not agents: qmgr
//      acts on them itself. Their next hop is the text ("error:5.1.1 No such
//      user" -> nexthop "5.1.1 No such user"); special_status() reads the
//      DSN status and text from it. error and retry without a text get
//      "Address is undeliverable", discard without one the recipient's
//      domain (as Postfix).
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

// Postfix's address classes. virtual_alias appears in a Destination only
// with the error transport (an unknown user of a virtual alias domain).
enum class AddressClass { local, virtual_mailbox, relay, default_, virtual_alias };

// "local", "virtual", "relay", "default", "virtual alias": for logs.
std::string_view class_name(AddressClass c);

// One final destination of a recipient.
struct Destination {
  // The address to deliver to, after virtual aliasing, in canonical external
  // form (lib/address to_string: domain in lower case, no trailing dot).
  std::string recipient;
  AddressClass cls = AddressClass::default_;
  std::string transport;   // "local", "smtp", "relay", "virtual", "error", "retry", "discard"
  std::string nexthop;     // "example.org", "[192.0.2.1]:2525", or the error/discard text
  bool operator==(const Destination&) const = default;
};

// What one envelope recipient resolves to. When `failed`, no destination is
// given and the recipient is deferred (temporary) or bounced with dsn/text.
// Otherwise there is at least one destination.
struct Resolution {
  std::vector<Destination> destinations;
  bool failed = false;
  bool temporary = false;
  std::string dsn;     // "4.3.0", "4.3.5", "5.1.3"
  std::string text;    // for the sender: "Virtual alias loop"
  std::string detail;  // for the log only: the table, key and error behind it
};

class Resolver {
 public:
  // Opens every table main.cf names for resolution (virtual_alias_maps,
  // transport_maps, and the tables in mydestination, virtual_alias_domains,
  // virtual_mailbox_domains, relay_domains: by default those of
  // virtual_alias_maps and virtual_mailbox_maps), each spec once, and reads
  // the domain lists, the "/file" patterns in them and the addresses of
  // inet_interfaces and proxy_interfaces (host names there are looked up
  // once, here). Errors, each naming the parameter: a table that cannot be
  // opened (Errc::not_found, Errc::io, Errc::unsupported, Errc::parse,
  // Errc::corrupt, Errc::invalid), an unreadable pattern file, a transport
  // parameter that is not "transport[:nexthop]", a relayhost that is not
  // one of its forms, a myhostname or myorigin that is not a domain, an
  // interface entry that is neither an address nor a host name
  // (Errc::invalid), a host name there that does not resolve
  // (Errc::not_found).
  static Result<Resolver> from_config(const config::Config& cfg);

  Resolver(Resolver&&) noexcept;
  Resolver& operator=(Resolver&&) noexcept;
  ~Resolver();

  // Resolves `address` (envelope recipient without angle brackets, external
  // form as lib/address writes it). Never throws. Failures:
  //   4.3.0 temporary: a table could not be read ("... lookup failure"), a
  //         virtual alias loop or limit;
  //   4.3.5 temporary: a table value that cannot be used (a virtual alias
  //         result that is not an address, a transport value whose transport
  //         is not a service name): "Mail system configuration error";
  //   5.1.3 permanent: an address that does not parse.
  Resolution resolve(std::string_view address) const;

  // Only the class of a domain (step 2 without the transport), for smtpd's
  // relay and recipient checks. `domain` may be in any case, with a
  // trailing dot, or empty (an unqualified address: local). Errors: a table
  // in a domain list could not be read (the detail names the parameter).
  Result<AddressClass> classify_domain(std::string_view domain) const;

  // Reopens the tables whose files were replaced or changed since they were
  // opened (posthorn map, postmap), so a long-running qmgr sees new
  // contents; call it between queue runs, not per recipient (it stats every
  // table file). Result: the number of tables reopened. On an error (a
  // table that no longer opens) the old table stays in use and the error,
  // naming the table, is returned; the others are still reopened. A "*"
  // in transport_maps whose value cannot be used is an error too, and the
  // previous "*" stays.
  Result<int> refresh();

 private:
  struct Impl;
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// --- Value syntax, shared with the agents (smtp reads next hops) ----------

// A transport table value or transport parameter, "transport:nexthop" split
// at its first colon, both parts trimmed.
struct TransportValue {
  std::string transport;  // "" = keep the transport
  std::string nexthop;    // "" = default next hop (see step 3)
  bool operator==(const TransportValue&) const = default;
};
// Errors (Errc::parse): a transport that is not a master.cf service name
// (letters, digits and ". _ - +"), a control character in the next hop.
Result<TransportValue> parse_transport_value(std::string_view value);

// One SMTP next-hop destination: host, [host], host:port, [host]:port.
// Brackets turn off the MX lookup; an IP address must be written in them
// ("[192.0.2.1]", "[2001:db8::1]", "[ipv6:2001:db8::1]").
struct NextHop {
  std::string host;  // lower case; an IP address without brackets or tag
  std::string port;  // "" = the transport's default; digits or a service name
  bool mx = true;    // false for the [host] forms
  bool operator==(const NextHop&) const = default;
};
// Errors (Errc::parse, detail says what is wrong): empty text, unbalanced
// brackets, a bad host name, an IP address without brackets, an IP literal
// that does not parse, a port that is not 1-65535 or a service name.
Result<NextHop> parse_nexthop(std::string_view text);
// A next-hop list ("[a]:587, [b]:587" or space separated), as relayhost and
// Postfix 3.5 transport next hops allow. Errors: parse_nexthop's, and an
// empty list.
Result<std::vector<NextHop>> parse_nexthop_list(std::string_view text);

// The addresses of a virtual alias value, split at commas and white space
// outside double quotes; "<addr>" loses its angle brackets. Items are not
// parsed here. Errors (Errc::parse): an unterminated quote or "<", no
// address at all.
Result<std::vector<std::string>> split_address_list(std::string_view value);

// The transports qmgr handles itself: "error", "retry", "discard".
bool is_special_transport(std::string_view transport);

// The DSN status and text of a special transport's destination: a next hop
// that starts with "X.Y.Z " gives the status, the rest is the text. The
// class digit is forced to 5 for error, 4 for retry, 2 for discard (a
// "4.x.x" error still bounces); without a status: 5.0.0, 4.0.0, 2.0.0.
// For other transports: {"", nexthop}.
struct Status {
  std::string dsn;
  std::string text;
  bool operator==(const Status&) const = default;
};
Status special_status(const Destination& d);

}  // namespace posthorn::resolve

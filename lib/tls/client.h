// lib/tls/client.h - the TLS client side for the smtp client.
//
// Security levels as Postfix's smtp_tls_security_level:
//   none     no TLS (new_session refuses)
//   may      opportunistic: any certificate, smtp_tls_protocols/_ciphers
//   encrypt  TLS required, any certificate, the _mandatory_ settings
//   verify   + a trusted chain and a name from smtp_tls_verify_cert_match
//            (default "hostname": the MX host name)
//   secure   + a trusted chain and a name from smtp_tls_secure_cert_match
//            (default "nexthop, dot-nexthop": the destination domain or a
//            subdomain; MX host names come from unsigned DNS, so they prove
//            nothing at this level)
// At verify and secure a refused certificate aborts the handshake (the
// client sends an alert, no SMTP goes over the channel); session_info() on
// the SSL still tells why. check_policy() states the same rule for callers
// that log the outcome.
//
// Decisions:
// - Trust anchors: smtp_tls_CAfile and/or smtp_tls_CApath when set (only
//   those), else the system store. (Postfix's tls_append_default_CA=no with
//   no CAfile would trust nothing; a fresh system should verify public MXs.)
// - SNI carries the MX host name (not an address literal) at every level.
// - No client session cache: connection reuse (issue 6) keeps sessions open
//   instead, and a cache shared between smtp processes would need a service.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/tls/owned.h"
#include "lib/tls/protocols.h"
#include "lib/tls/session.h"

namespace posthorn::tls {

enum class SecurityLevel { none, may, encrypt, verify, secure };

// "", "none", "may", "encrypt", "verify", "secure" (any case; "" is none).
// Errc::parse otherwise.
Result<SecurityLevel> parse_security_level(std::string_view name);
std::string_view level_name(SecurityLevel level);

struct ClientSettings {
  std::string ca_file;   // smtp_tls_CAfile
  std::string ca_path;   // smtp_tls_CApath
  std::string cert_file; // smtp_tls_cert_file: optional client certificate
  std::string key_file;  // smtp_tls_key_file; empty: in cert_file
  std::string protocols = ">=TLSv1.2";            // smtp_tls_protocols (may)
  std::string mandatory_protocols = ">=TLSv1.2";  // smtp_tls_mandatory_protocols
  std::string ciphers = "medium";                 // smtp_tls_ciphers (may)
  std::string mandatory_ciphers = "medium";       // smtp_tls_mandatory_ciphers
  std::vector<std::string> exclude_ciphers;       // smtp_tls_exclude_ciphers (not declared yet)
};

// One TLS attempt to one server.
struct ClientPeer {
  SecurityLevel level = SecurityLevel::may;
  std::string nexthop;   // the destination domain (or relayhost name), for "nexthop"
  std::string hostname;  // the server's host name (the MX), for SNI and "hostname"
  // Names a certificate must carry at verify/secure: "hostname", "nexthop",
  // "dot-nexthop" stand for the fields above; other entries are literal DNS
  // names, a leading "." meaning any subdomain. Empty: the level's default.
  std::vector<std::string> match;
};

class ClientContext {
 public:
  // Loads trust anchors and the optional client certificate, checks the
  // protocol and cipher settings. Errors name the file or the setting. A
  // client certificate outside its validity period is logged as a warning.
  static Result<ClientContext> create(const ClientSettings& settings);

  // An SSL set up for `peer`, to hand to event::Connection::start_tls (or
  // tls() for wrapper mode). Errc::invalid for level none, or for
  // verify/secure with no name to match (e.g. "nexthop" and no nexthop).
  Result<SslPtr> new_session(const ClientPeer& peer) const;

  // The shared context (owned here; each SSL from new_session holds its own reference).
  SSL_CTX* get() const { return ctx_.get(); }

 private:
  SslCtxPtr ctx_;
  Protocols protocols_, mandatory_protocols_;
  std::string ciphers_, mandatory_ciphers_;
};

// The names new_session() would require for `peer` (after expanding
// "hostname", "nexthop", "dot-nexthop"; lower case, no trailing dot).
std::vector<std::string> required_names(const ClientPeer& peer);

// Whether a finished handshake meets the level: Errc::protocol with
// Postfix's wording ("Server certificate not trusted", "Server certificate
// not verified") at verify/secure when the result falls short.
Result<void> check_policy(const SessionInfo& info, SecurityLevel level);

}  // namespace posthorn::tls

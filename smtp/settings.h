// smtp/settings.h - smtp's typed, read-only view of main.cf (STYLE.md
// section 2), built once after start-up.
//
// Start-up refuses (std::runtime_error, logged as fatal by the skeleton): an
// smtp_tcp_port that is neither a number nor a known service, a bad
// smtp_tls_security_level, a TLS client context that cannot be built
// (smtp_tls_CAfile unreadable, ...), an smtp_sasl_password_maps table that
// or smtp_tls_policy_maps table that cannot be opened, a dns_nameservers
// list that does not parse, an smtp_fallback_relay that is not a next hop,
// smtp_tls_wrappermode without smtp_tls_security_level encrypt or stronger
// (as Postfix requires), an unknown smtp_host_lookup method.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lib/maps/table.h"
#include "lib/tls/client.h"
#include "smtp/route.h"
#include "smtp/session.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::smtp {

struct Settings {
  std::string service;  // master.cf service name ("smtp", "relay")
  SessionSettings session;
  RouteSettings route;
  Millis connect_timeout{30'000};
  unsigned default_port = 25;       // smtp_tcp_port
  std::string bind_address, bind_address6;
  unsigned mx_session_limit = 2;    // 0 = none
  bool skip_5xx_greeting = true;
  bool soft_bounce = false;
  bool disable_mime_conversion = false;
  std::uint64_t message_size_limit = 10240000;
  std::size_t line_length_limit = 998;  // smtp_line_length_limit; 0 = none
  std::vector<std::string> fallback_relay;  // smtp_fallback_relay next hops

  tls::SecurityLevel tls_level = tls::SecurityLevel::none;
  std::vector<std::string> tls_verify_match, tls_secure_match;
  bool tls_note_starttls_offer = false;
  bool tls_wrappermode = false;  // TLS from the first byte (port 465), at least "encrypt"

  bool sasl_enable = false;
  std::vector<std::string> sasl_security_options, sasl_tls_security_options, sasl_mechanism_filter;

  std::vector<std::string> cache_destinations;  // lower case
  bool cache_on_demand = true;
  Millis cache_time_limit{2'000};
  unsigned reuse_count_limit = 0;  // 0 = none
  Millis reuse_time_limit{300'000};

  static Settings from_config(const config::Config& cfg, std::string service);
};

// "25", "smtp", "submission" -> a port; 0 when neither a number in 1..65535
// nor a service /etc/services knows ("smtp" is 25 even without the file).
unsigned service_port(std::string_view text);

// The tables of one table_list parameter, opened once.
struct TableList {
  std::vector<std::unique_ptr<maps::Table>> tables;
  // Throws std::runtime_error naming the parameter and the table.
  static TableList open(const config::Config& cfg, std::string_view param);
  // The value of the first key found (keys in order, each in every table);
  // nullopt when none is.
  Result<std::optional<std::string>> find(const std::vector<std::string>& keys) const;
};

// Every table smtp reads: smtp_sasl_password_maps (when
// smtp_sasl_auth_enable) and smtp_tls_policy_maps.
struct Tables {
  TableList sasl_passwords;
  TableList tls_policy;
  static Tables open(const config::Config& cfg);
};

// One smtp_tls_policy_maps value: "LEVEL [match=NAME:NAME...]" (Postfix's
// syntax; other attributes are ignored). Errc::parse for an unknown or
// unsupported level (dane, fingerprint) or an empty value.
struct TlsPolicy {
  tls::SecurityLevel level = tls::SecurityLevel::none;
  std::vector<std::string> match;  // empty: the level's default
};
Result<TlsPolicy> parse_tls_policy(std::string_view value);

// The keys smtp_tls_policy_maps is searched with for a next hop, as
// Postfix: "[host]:port" forms as written, then the host, then its parent
// domains as ".parent".
std::vector<std::string> tls_policy_keys(std::string_view nexthop, std::string_view host);

}  // namespace posthorn::smtp

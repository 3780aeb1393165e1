// smtp/settings.cc - see settings.h.
#include "smtp/settings.h"

#include <netdb.h>

#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/config/config.h"

namespace posthorn::smtp {

namespace {

Millis seconds(const config::Config& cfg, std::string_view name) {
  return Millis(cfg.get_time(name) * 1000);
}

std::vector<std::string> lower_list(std::vector<std::string> v) {
  for (std::string& s : v) s = to_lower(s);
  return v;
}

}  // namespace

unsigned service_port(std::string_view text) {
  unsigned long long n = 0;
  if (parse_uint(text, n)) return n >= 1 && n <= 65535 ? static_cast<unsigned>(n) : 0;
  const std::string name(text);
  if (const servent* s = ::getservbyname(name.c_str(), "tcp")) return ntohs(static_cast<std::uint16_t>(s->s_port));
  if (name == "smtp") return 25;
  if (name == "submission") return 587;
  return 0;
}

Settings Settings::from_config(const config::Config& cfg, std::string service) {
  Settings s;
  s.service = std::move(service);
  s.session.helo_name = cfg.get("smtp_helo_name");
  s.session.always_send_ehlo = cfg.get_bool("smtp_always_send_ehlo");
  s.session.discard_ehlo_keywords = lower_list(cfg.get_list("smtp_discard_ehlo_keywords"));
  Timeouts& t = s.session.timeouts;
  t.helo = seconds(cfg, "smtp_helo_timeout");
  t.mail = seconds(cfg, "smtp_mail_timeout");
  t.rcpt = seconds(cfg, "smtp_rcpt_timeout");
  t.data_init = seconds(cfg, "smtp_data_init_timeout");
  t.data_xfer = seconds(cfg, "smtp_data_xfer_timeout");
  t.data_done = seconds(cfg, "smtp_data_done_timeout");
  t.quit = seconds(cfg, "smtp_quit_timeout");
  t.starttls = seconds(cfg, "smtp_starttls_timeout");
  s.connect_timeout = seconds(cfg, "smtp_connect_timeout");

  s.route.myhostname = to_lower(cfg.get("myhostname"));
  std::vector<std::string> protos = lower_list(cfg.get_list("inet_protocols"));
  bool all = protos.empty();
  for (const std::string& p : protos) all = all || p == "all";
  s.route.ipv4 = all;
  s.route.ipv6 = all;
  for (const std::string& p : protos) {
    if (p == "ipv4") s.route.ipv4 = true;
    if (p == "ipv6") s.route.ipv6 = true;
  }
  const std::string pref = to_lower(cfg.get("smtp_address_preference"));
  s.route.preference = pref == "ipv4" ? AddressPreference::ipv4
                       : pref == "ipv6" ? AddressPreference::ipv6 : AddressPreference::any;
  s.route.address_limit = static_cast<unsigned>(cfg.get_int("smtp_mx_address_limit"));
  s.route.defer_if_no_mx_address = cfg.get_bool("smtp_defer_if_no_mx_address_found");
  // smtp_host_lookup: "dns", "native" or both (DNS first); DNS switched off
  // by smtp_dns_support_level = disabled leaves only native lookups, as in
  // Postfix. "dnssec" is "enabled" until DANE is done.
  s.route.dns_hosts = s.route.native_hosts = false;
  for (const std::string& m : lower_list(cfg.get_list("smtp_host_lookup"))) {
    if (m == "dns") s.route.dns_hosts = true;
    else if (m == "native") s.route.native_hosts = true;
    else throw std::runtime_error(cat("smtp_host_lookup: unknown method \"", m, "\" (dns, native)"));
  }
  if (!s.route.dns_hosts && !s.route.native_hosts)
    throw std::runtime_error("smtp_host_lookup: empty (dns, native)");
  if (to_lower(cfg.get("smtp_dns_support_level")) == "disabled") {
    s.route.mx_lookup = false;
    s.route.dns_hosts = false;
    s.route.native_hosts = true;
  }

  s.default_port = service_port(cfg.get("smtp_tcp_port"));
  if (s.default_port == 0) throw std::runtime_error("smtp_tcp_port: unknown port " + cfg.get("smtp_tcp_port"));
  s.bind_address = cfg.get("smtp_bind_address");
  s.bind_address6 = cfg.get("smtp_bind_address6");
  s.mx_session_limit = static_cast<unsigned>(cfg.get_int("smtp_mx_session_limit"));
  s.skip_5xx_greeting = cfg.get_bool("smtp_skip_5xx_greeting");
  s.soft_bounce = cfg.get_bool("soft_bounce");
  s.disable_mime_conversion = cfg.get_bool("disable_mime_output_conversion");
  s.message_size_limit = static_cast<std::uint64_t>(cfg.get_size("message_size_limit"));
  s.line_length_limit = static_cast<std::size_t>(cfg.get_int("smtp_line_length_limit"));
  s.fallback_relay = cfg.get_list("smtp_fallback_relay");
  for (const std::string& f : s.fallback_relay)
    if (auto hop = resolve::parse_nexthop(f); !hop)
      throw std::runtime_error(cat("smtp_fallback_relay: ", f, ": ", hop.error().detail));

  auto level = tls::parse_security_level(cfg.get("smtp_tls_security_level"));
  if (!level) throw std::runtime_error("smtp_tls_security_level: " + level.error().detail);
  s.tls_level = *level;
  s.tls_verify_match = cfg.get_list("smtp_tls_verify_cert_match");
  s.tls_secure_match = cfg.get_list("smtp_tls_secure_cert_match");
  s.tls_note_starttls_offer = cfg.get_bool("smtp_tls_note_starttls_offer");
  s.tls_wrappermode = cfg.get_bool("smtp_tls_wrappermode");
  if (s.tls_wrappermode && (s.tls_level == tls::SecurityLevel::none || s.tls_level == tls::SecurityLevel::may))
    throw std::runtime_error("smtp_tls_wrappermode = yes needs smtp_tls_security_level = encrypt or stronger");

  s.sasl_enable = cfg.get_bool("smtp_sasl_auth_enable");
  s.sasl_security_options = lower_list(cfg.get_list("smtp_sasl_security_options"));
  s.sasl_tls_security_options = lower_list(cfg.get_list("smtp_sasl_tls_security_options"));
  s.sasl_mechanism_filter = cfg.get_list("smtp_sasl_mechanism_filter");
  for (std::string& m : s.sasl_mechanism_filter)
    for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  s.cache_destinations = lower_list(cfg.get_list("smtp_connection_cache_destinations"));
  s.cache_on_demand = cfg.get_bool("smtp_connection_cache_on_demand");
  s.cache_time_limit = seconds(cfg, "smtp_connection_cache_time_limit");
  s.reuse_count_limit = static_cast<unsigned>(cfg.get_int("smtp_connection_reuse_count_limit"));
  s.reuse_time_limit = seconds(cfg, "smtp_connection_reuse_time_limit");
  return s;
}

TableList TableList::open(const config::Config& cfg, std::string_view param) {
  TableList t;
  for (const std::string& spec : cfg.get_list(param)) {
    auto table = maps::open_table(spec);
    if (!table) throw std::runtime_error(cat(param, ": ", spec, ": ", table.error().detail));
    t.tables.push_back(std::move(*table));
  }
  return t;
}

Result<std::optional<std::string>> TableList::find(const std::vector<std::string>& keys) const {
  for (const std::string& k : keys) {
    for (const auto& t : tables) {
      auto v = t->lookup(k);
      if (!v) return v.error();
      if (*v) return v;
    }
  }
  return std::optional<std::string>{};
}

Tables Tables::open(const config::Config& cfg) {
  Tables t;
  if (cfg.get_bool("smtp_sasl_auth_enable")) t.sasl_passwords = TableList::open(cfg, "smtp_sasl_password_maps");
  t.tls_policy = TableList::open(cfg, "smtp_tls_policy_maps");
  return t;
}

Result<TlsPolicy> parse_tls_policy(std::string_view value) {
  std::vector<std::string> words = split_fields(value, " \t,");
  if (words.empty()) return make_error(Errc::parse, "empty TLS policy");
  auto level = tls::parse_security_level(words[0]);
  if (!level) return make_error(Errc::parse, cat("unsupported TLS policy level \"", printable(words[0]), "\""));
  TlsPolicy p;
  p.level = *level;
  for (std::size_t i = 1; i < words.size(); ++i)
    if (istarts_with(words[i], "match="))
      for (std::string& m : split(std::string_view(words[i]).substr(6), ':'))
        if (!m.empty()) p.match.push_back(std::move(m));
  return p;
}

std::vector<std::string> tls_policy_keys(std::string_view nexthop, std::string_view host) {
  std::vector<std::string> keys;
  if (!nexthop.empty() && nexthop.front() == '[') keys.emplace_back(to_lower(nexthop));
  std::string h = to_lower(host);
  keys.push_back(h);
  for (std::size_t dot = h.find('.'); dot != std::string::npos; dot = h.find('.', dot + 1))
    keys.push_back(h.substr(dot));
  return keys;
}

}  // namespace posthorn::smtp

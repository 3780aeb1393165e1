// smtpd/tls_setup.cc - see tls_setup.h.
#include "smtpd/tls_setup.h"

#include <filesystem>

#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::smtpd {
namespace {

std::string from_config_dir(const config::Config& cfg, const std::string& file) {
  if (file.empty() || file.front() == '/') return file;
  return (cfg.config_directory() / file).string();
}

std::vector<tls::CertKeyFiles> certificates(const config::Config& cfg) {
  std::vector<tls::CertKeyFiles> out;
  for (const std::string& f : cfg.get_list("smtpd_tls_chain_files"))
    out.push_back({from_config_dir(cfg, f), ""});
  if (!out.empty()) return out;
  const std::pair<const char*, const char*> pairs[] = {
      {"smtpd_tls_cert_file", "smtpd_tls_key_file"},
      {"smtpd_tls_eccert_file", "smtpd_tls_eckey_file"},
  };
  for (const auto& [cert, key] : pairs) {
    std::string c = cfg.get(cert);
    if (c.empty()) continue;
    std::string k = cfg.get(key);
    out.push_back({from_config_dir(cfg, c), k.empty() ? "" : from_config_dir(cfg, k)});
  }
  return out;
}

Result<TlsSetup::Level> parse_level(std::string_view name, bool have_certificate) {
  if (name.empty()) return have_certificate ? TlsSetup::Level::may : TlsSetup::Level::none;
  if (iequals(name, "none")) return TlsSetup::Level::none;
  if (iequals(name, "may")) return TlsSetup::Level::may;
  if (iequals(name, "encrypt")) return TlsSetup::Level::encrypt;
  return make_error(Errc::parse, cat("smtpd_tls_security_level: unknown level \"", printable(name),
                                     "\" (expected none, may or encrypt)"));
}

}  // namespace

Result<TlsSetup> tls_setup(const config::Config& cfg, std::string_view service) {
  TlsSetup out;
  tls::ServerSettings s;
  s.certificates = certificates(cfg);
  auto level = parse_level(cfg.get("smtpd_tls_security_level"), !s.certificates.empty());
  if (!level) return std::move(level).error();
  out.level = *level;
  out.wrappermode = cfg.get_bool("smtpd_tls_wrappermode");
  const bool mandatory = out.wrappermode || out.level == TlsSetup::Level::encrypt;
  if (!mandatory && out.level == TlsSetup::Level::none) return out;
  if (s.certificates.empty()) {
    const char* why = out.wrappermode ? "smtpd_tls_wrappermode = yes" : "smtpd_tls_security_level = encrypt";
    if (mandatory)
      return make_error(Errc::invalid, cat(why, " needs a certificate: set smtpd_tls_cert_file "
                                                "or smtpd_tls_chain_files"));
    return out;
  }
  s.protocols = join(cfg.get_list(mandatory ? "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols"), " ");
  s.ciphers = cfg.get(mandatory ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers");
  s.exclude_ciphers = cfg.get_list("smtpd_tls_exclude_ciphers");
  s.ca_file = from_config_dir(cfg, cfg.get("smtpd_tls_CAfile"));
  s.ask_client_cert = cfg.get_bool("smtpd_tls_ask_ccert");
  s.ticket_lifetime = std::chrono::seconds(cfg.get_time("smtpd_tls_session_cache_timeout"));
  s.session_id_context = cat("smtpd/", service);
  auto ctx = tls::ReloadingServerContext::create(std::move(s));
  if (!ctx) {
    if (mandatory || ctx.error().code == Errc::parse) return std::move(ctx).error();
    log::warn("TLS is off: ", ctx.error().detail);
    out.level = TlsSetup::Level::none;
    return out;
  }
  out.context.emplace(std::move(*ctx));
  return out;
}

}  // namespace posthorn::smtpd

// lib/access/tls.cc - see tls.h.
#include "lib/access/tls.h"

#include <chrono>
#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/log/log.h"

namespace posthorn::access {

std::optional<tls::ReloadingServerContext> server_tls(const config::Config& cfg, std::string_view prefix,
                                                      std::string_view session_id, std::string_view verb) {
  const bool wrapper = cfg.get_bool(cat(prefix, "_tls_wrappermode"));
  const std::string cert_param = cat(prefix, "_tls_cert_file");
  const std::filesystem::path cert = cfg.get_path(cert_param);
  if (cert.empty()) {
    if (wrapper) throw std::runtime_error(cat(prefix, "_tls_wrappermode = yes needs ", cert_param));
    return std::nullopt;
  }
  tls::ServerSettings s;
  s.certificates.push_back({cert.string(), cfg.get_path(cat(prefix, "_tls_key_file")).string()});
  s.protocols = join(cfg.get_list("smtpd_tls_mandatory_protocols"), " ");
  s.ciphers = cfg.get("smtpd_tls_mandatory_ciphers");
  s.exclude_ciphers = cfg.get_list("smtpd_tls_exclude_ciphers");
  s.ticket_lifetime = std::chrono::seconds(cfg.get_time("smtpd_tls_session_cache_timeout"));
  s.session_id_context = std::string(session_id);
  auto ctx = tls::ReloadingServerContext::create(std::move(s));
  if (!ctx) {
    if (wrapper || ctx.error().code == Errc::parse) throw std::runtime_error(ctx.error().detail);
    log::warn(verb, " is off: ", ctx.error().detail);
    return std::nullopt;
  }
  return std::move(*ctx);
}

}  // namespace posthorn::access

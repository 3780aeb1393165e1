// smtpd/tls_setup.h - smtpd's TLS settings from main.cf (and master.cf -o):
// the certificates, the protocol and cipher limits, and whether TLS is
// offered (STARTTLS), required before mail (encrypt) or implicit
// (wrappermode, port 465 as RFC 8314 describes).
//
// Decisions:
// - smtpd_tls_security_level empty: "may" when a certificate is configured,
//   else "none" (Postfix's smtpd_use_tls done the modern way).
// - Certificates: smtpd_tls_chain_files when set (each file holds a key, its
//   certificate and chain), else smtpd_tls_cert_file/_key_file (RSA) and
//   smtpd_tls_eccert_file/_eckey_file (ECDSA); OpenSSL picks the one the
//   client supports. Relative names are taken from config_directory.
// - At "encrypt" and in wrapper mode the _mandatory_ protocol and cipher
//   settings apply, as in Postfix; otherwise smtpd_tls_protocols/_ciphers.
// - At "may", certificates that fail to load are a warning and TLS is left
//   off (port 25 keeps receiving mail); at "encrypt" or in wrapper mode they
//   stop the service at start-up, since it could serve nobody.
// - The context is built while still root (keys are often readable by root
//   alone) and re-read at each new session when a file changed on disk
//   (lib/tls ReloadingServerContext). After the privilege drop that re-read
//   needs files the mail owner can read; otherwise the old certificate stays
//   until the process retires (max_use, max_idle) and master starts a new
//   one, which loads the new files as root.
#pragma once

#include <optional>
#include <string_view>

#include "lib/base/result.h"
#include "lib/config/config.h"
#include "lib/tls/server.h"

namespace posthorn::smtpd {

struct TlsSetup {
  enum class Level { none, may, encrypt };
  Level level = Level::none;
  bool wrappermode = false;
  std::optional<tls::ReloadingServerContext> context;  // set when TLS can be used

  bool usable() const { return context.has_value(); }
  bool offered() const { return usable() && !wrappermode && level != Level::none; }
  bool required() const { return usable() && !wrappermode && level == Level::encrypt; }
};

// Reads the smtpd_tls_* parameters of `cfg` and loads the certificates.
// `service` (master.cf's name) keeps session tickets apart per service.
// Errors, fit for a fatal start-up line: a bad level, protocol or cipher
// setting; encrypt or wrapper mode without a usable certificate.
Result<TlsSetup> tls_setup(const config::Config& cfg, std::string_view service);

}  // namespace posthorn::smtpd

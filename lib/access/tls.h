// lib/access/tls.h - the TLS server context of an access agent (pop3d,
// imapd): PREFIX_tls_cert_file and PREFIX_tls_key_file (relative names from
// config_directory) with smtpd's mandatory protocol and cipher settings.
//
// No certificate: no context (no STARTTLS/STLS), and PREFIX_tls_wrappermode
// cannot start. A certificate that does not load stops wrapper mode and a
// configuration error; otherwise it is logged and STARTTLS/STLS is off.
// Errors that stop start-up are thrown as std::runtime_error (start-up code:
// the daemon stops with that line).
#pragma once

#include <optional>
#include <string_view>

#include "lib/tls/server.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::access {

// `prefix` is "imap" or "pop3"; `session_id` is the TLS session id context
// ("imapd/imap"); `verb` names the command in the warning ("STARTTLS").
std::optional<tls::ReloadingServerContext> server_tls(const config::Config& cfg, std::string_view prefix,
                                                      std::string_view session_id, std::string_view verb);

}  // namespace posthorn::access

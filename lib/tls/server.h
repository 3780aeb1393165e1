// lib/tls/server.h - the TLS server side for smtpd, pop3d and imapd.
//
// Guarantees: a context is only returned when every configured certificate
// loaded and matched its key; errors name the file and say what is wrong.
// Protocols and cipher grade follow Postfix's settings (lib/tls/protocols.h).
//
// Decisions:
// - Session resumption uses stateless tickets only (RFC 5077 / TLS 1.3
//   tickets), with OpenSSL's per-process random ticket keys, valid for
//   `ticket_lifetime`; the stateful server cache is off. Several smtpd
//   processes share no cache (Postfix needs tlsmgr for that), a per-process
//   one would mostly miss and cost memory per session. 0 turns tickets off.
// - Client-initiated renegotiation is refused (a cheap CPU attack).
// - Finite-field DH uses OpenSSL's automatic RFC 7919 groups; ECDHE and
//   TLS 1.3 groups are OpenSSL 3's defaults (X25519 first).
// - SSL_MODE_RELEASE_BUFFERS: an idle session does not keep its 34 KB of
//   record buffers; smtpd holds many idle sessions.
// - A requested client certificate is never required and never fails the
//   handshake; its verification outcome is reported by session_info().
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/tls/owned.h"

namespace posthorn::tls {

struct CertKeyFiles {
  std::string cert_file;  // PEM: certificate first, then its chain
  std::string key_file;   // PEM private key; empty: the key is in cert_file
};

struct ServerSettings {
  // smtpd_tls_cert_file/_key_file, smtpd_tls_eccert_file/_eckey_file, or
  // each file of smtpd_tls_chain_files (key_file empty). At most one per key
  // type (RSA, ECDSA): OpenSSL picks the one the client supports.
  std::vector<CertKeyFiles> certificates;
  std::string ca_file;             // smtpd_tls_CAfile: trusted for client certificates
  bool ask_client_cert = false;    // smtpd_tls_ask_ccert
  std::string protocols = ">=TLSv1.2";   // smtpd_tls_protocols (or _mandatory_)
  std::string ciphers = "medium";        // smtpd_tls_ciphers (or _mandatory_)
  std::vector<std::string> exclude_ciphers;  // smtpd_tls_exclude_ciphers
  std::chrono::seconds ticket_lifetime{3600};  // smtpd_tls_session_cache_timeout
  std::string session_id_context = "posthorn";  // the program name: tickets stay per service
};

struct ServerContext {
  SslCtxPtr ctx;
  std::vector<std::string> warnings;  // e.g. an expired certificate: the caller logs them
};

// Builds a server context. Errors (Errc from load_certified_key, Errc::parse
// for a bad protocol or cipher setting, Errc::invalid for no certificate or
// two of one key type) carry a detail fit for "fatal: ..." at startup.
Result<ServerContext> make_server_context(const ServerSettings& settings);

// A new server-side SSL for one connection, to hand to event::Connection.
// Panics only when OpenSSL cannot allocate.
SslPtr new_server_ssl(SSL_CTX* ctx);

// The context for new sessions, rebuilt when a configured certificate, key or
// CA file changes on disk (a renewal), so new sessions get the new files
// without a reload; sessions already running keep theirs (SSL holds a
// reference to its context). Single-threaded, like the event loop.
class ReloadingServerContext {
 public:
  // Loads once; Errc as make_server_context().
  static Result<ReloadingServerContext> create(ServerSettings settings);

  // An SSL for a new session. When the files changed since the last load they
  // are reloaded first; if that fails the error is logged (once per change)
  // and the previous context keeps serving. Warnings of a load are logged.
  SslPtr new_ssl();

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const Stamp& o) const;
  };
  std::vector<Stamp> stamps() const;

  ServerSettings settings_;
  SslCtxPtr ctx_;
  std::vector<Stamp> stamps_;  // of the files last tried, loaded or not
};

}  // namespace posthorn::tls

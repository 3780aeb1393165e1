// lib/tls/server.cc - server contexts.
#include "lib/tls/server.h"

#include <openssl/err.h>

#include <set>

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/tls/certificate.h"
#include "lib/tls/protocols.h"

namespace posthorn::tls {
namespace {

// A requested client certificate never fails the handshake (Postfix does the
// same): the outcome is kept in the SSL for logging and for policy such as
// permit_tls_clientcerts.
int accept_any_client_cert(int, X509_STORE_CTX*) { return 1; }

Result<void> set_grade(SSL_CTX* ctx, const std::string& grade_name,
                       const std::vector<std::string>& exclude) {
  auto grade = parse_cipher_grade(grade_name);
  if (!grade) return std::move(grade).error();
  std::string list = cipher_list(*grade, exclude);
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1)
    return Error{Errc::parse, cat("no usable cipher in \"", list, "\": ", openssl_errors())};
  return {};
}

Result<void> set_protocols_and_ciphers(SSL_CTX* ctx, const ServerSettings& s) {
  auto protocols = parse_protocols(s.protocols);
  if (!protocols) return std::move(protocols).error();
  if (auto r = apply_protocols(ctx, *protocols); !r) return r;
  return set_grade(ctx, s.ciphers, s.exclude_ciphers);
}

Result<void> add_certificates(SSL_CTX* ctx, const ServerSettings& s,
                              std::vector<std::string>& warnings) {
  if (s.certificates.empty()) return Error{Errc::invalid, "no TLS server certificate configured"};
  std::set<std::string> types;
  for (const CertKeyFiles& f : s.certificates) {
    const std::string& key_file = f.key_file.empty() ? f.cert_file : f.key_file;
    auto ck = load_certified_key(f.cert_file, key_file);
    if (!ck) return std::move(ck).error();
    std::string type = key_type_name(ck->key.get());
    if (!types.insert(type).second)
      return Error{Errc::invalid, cat("a second ", type, " certificate in ", f.cert_file,
                                      ": one per key type (RSA, EC)")};
    for (std::string& w : validity_warnings(ck->cert.get(), f.cert_file)) warnings.push_back(w);
    if (SSL_CTX_use_cert_and_key(ctx, ck->cert.get(), ck->key.get(), ck->chain.get(), 1) != 1)
      return Error{Errc::invalid, cat("OpenSSL refused the certificate in ", f.cert_file, ": ",
                                      openssl_errors())};
  }
  return {};
}

Result<void> set_client_ca(SSL_CTX* ctx, const ServerSettings& s) {
  if (!s.ca_file.empty()) {
    // Load our way first for a clear error, then let OpenSSL take the file.
    auto certs = load_certificates(s.ca_file);
    if (!certs) return std::move(certs).error();
    if (SSL_CTX_load_verify_locations(ctx, s.ca_file.c_str(), nullptr) != 1)
      return Error{Errc::invalid, cat("cannot use CA file ", s.ca_file, ": ", openssl_errors())};
    // The CertificateRequest names these CAs so clients pick a matching cert.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx, names);
    ERR_clear_error();
  }
  if (s.ask_client_cert) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client_cert);
  return {};
}

void set_sessions(SSL_CTX* ctx, const ServerSettings& s) {
  const std::string& sid = s.session_id_context;
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(sid.data()),
                                 static_cast<unsigned>(std::min<std::size_t>(sid.size(), 32)));
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (s.ticket_lifetime.count() > 0) {
    SSL_CTX_set_timeout(ctx, static_cast<long>(s.ticket_lifetime.count()));
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
}

}  // namespace

Result<ServerContext> make_server_context(const ServerSettings& settings) {
  ServerContext out;
  out.ctx.reset(SSL_CTX_new(TLS_server_method()));
  if (!out.ctx) log::panic("SSL_CTX_new: ", openssl_errors());
  SSL_CTX* ctx = out.ctx.get();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_dh_auto(ctx, 1);
  if (auto r = set_protocols_and_ciphers(ctx, settings); !r) return std::move(r).error();
  if (auto r = add_certificates(ctx, settings, out.warnings); !r) return std::move(r).error();
  if (auto r = set_client_ca(ctx, settings); !r) return std::move(r).error();
  set_sessions(ctx, settings);
  return out;
}

SslPtr new_server_ssl(SSL_CTX* ctx) {
  SslPtr ssl(SSL_new(ctx));
  if (!ssl) log::panic("SSL_new: ", openssl_errors());
  return ssl;
}

// --- ReloadingServerContext ---------------------------------------------------

bool ReloadingServerContext::Stamp::operator==(const Stamp& o) const {
  return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
         mtime.tv_nsec == o.mtime.tv_nsec;
}

std::vector<ReloadingServerContext::Stamp> ReloadingServerContext::stamps() const {
  std::vector<std::string> files;
  for (const CertKeyFiles& f : settings_.certificates) {
    files.push_back(f.cert_file);
    if (!f.key_file.empty()) files.push_back(f.key_file);
  }
  if (!settings_.ca_file.empty()) files.push_back(settings_.ca_file);
  std::vector<Stamp> out;
  for (const std::string& file : files) {
    struct stat st {};
    Stamp s;  // a missing file stamps as zeros: its return is a change
    if (::stat(file.c_str(), &st) == 0) s = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    out.push_back(s);
  }
  return out;
}

Result<ReloadingServerContext> ReloadingServerContext::create(ServerSettings settings) {
  ReloadingServerContext r;
  r.settings_ = std::move(settings);
  r.stamps_ = r.stamps();
  auto ctx = make_server_context(r.settings_);
  if (!ctx) return std::move(ctx).error();
  for (const std::string& w : ctx->warnings) log::warn(w);
  r.ctx_ = std::move(ctx->ctx);
  return r;
}

SslPtr ReloadingServerContext::new_ssl() {
  std::vector<Stamp> now = stamps();
  if (now != stamps_) {
    // A renewal may be caught half-written (key replaced, certificate not
    // yet): the mismatch fails this load, and the next change retries.
    stamps_ = std::move(now);
    auto ctx = make_server_context(settings_);
    if (ctx) {
      for (const std::string& w : ctx->warnings) log::warn(w);
      ctx_ = std::move(ctx->ctx);
    } else {
      log::warn("TLS certificate reload failed, keeping the previous one: ", ctx.error().detail);
    }
  }
  return new_server_ssl(ctx_.get());
}

}  // namespace posthorn::tls

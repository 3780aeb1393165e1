// lib/tls/session.cc - handshake outcome.
#include "lib/tls/session.h"

#include <openssl/x509_vfy.h>

#include "lib/base/strings.h"
#include "lib/tls/certificate.h"
#include "lib/tls/owned.h"

namespace posthorn::tls {
namespace {

Verification classify(SSL* ssl, X509* peer, long result) {
  if (result == X509_V_ERR_HOSTNAME_MISMATCH) return Verification::name_mismatch;
  if (result != X509_V_OK) return Verification::untrusted;
  // X509_V_OK is also the value before any verification ran.
  if (!peer) return Verification::anonymous;
  const char* matched = X509_VERIFY_PARAM_get0_peername(SSL_get0_param(ssl));
  return matched ? Verification::verified : Verification::trusted;
}

}  // namespace

std::string_view trust_word(Verification v) {
  switch (v) {
    case Verification::anonymous: return "Anonymous";
    case Verification::untrusted: return "Untrusted";
    case Verification::trusted:
    case Verification::name_mismatch: return "Trusted";
    case Verification::verified: return "Verified";
  }
  return "Untrusted";
}

SessionInfo session_info(SSL* ssl) {
  SessionInfo info;
  if (!ssl) return info;
  if (SSL_is_init_finished(ssl)) {
    info.protocol = SSL_get_version(ssl);
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
      info.cipher = SSL_CIPHER_get_name(c);
      info.cipher_bits = SSL_CIPHER_get_bits(c, &info.cipher_alg_bits);
    }
  }
  X509* peer = SSL_get0_peer_certificate(ssl);
  info.peer_cn = subject_cn(peer);
  info.issuer_cn = issuer_cn(peer);
  long result = SSL_get_verify_result(ssl);
  info.verification = classify(ssl, peer, result);
  if (info.verification == Verification::verified)
    info.matched_name = X509_VERIFY_PARAM_get0_peername(SSL_get0_param(ssl));
  if (result != X509_V_OK) info.verify_error = X509_verify_cert_error_string(result);
  return info;
}

std::string cipher_summary(const SessionInfo& info) {
  return cat(info.protocol, " with cipher ", info.cipher, " (", info.cipher_bits, "/",
             info.cipher_alg_bits, " bits)");
}

std::string connection_established(const SessionInfo& info, std::string_view direction,
                                   std::string_view peer) {
  return cat(trust_word(info.verification), " TLS connection established ", direction, " ", peer,
             ": ", cipher_summary(info));
}

}  // namespace posthorn::tls

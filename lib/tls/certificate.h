// lib/tls/certificate.h - certificates and keys: loading PEM files with
// errors that name the file, and making throwaway certificates.
//
// make_certificate() serves `posthorn init` (a self-signed certificate so a
// fresh instance can offer STARTTLS) and the tests (a CA and certificates it
// signs). It is not a CA tool: no revocation, no policy, serial from random.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/tls/owned.h"

namespace posthorn::tls {

// --- Loading ---------------------------------------------------------------

// A certificate with its chain and the matching private key, as loaded.
struct CertifiedKey {
  X509Ptr cert;
  X509StackPtr chain;  // intermediates after the first certificate; may be empty
  EvpPkeyPtr key;
};

// Loads the first certificate of `cert_file` and any further ones as its
// chain, and the first private key of `key_file` (which may be the same file:
// smtpd_tls_chain_files puts key, certificate and chain in one). Errors name
// the file: Errc::not_found (missing), Errc::permission or Errc::io
// (unreadable), Errc::parse ("no PEM certificate in ..."), Errc::invalid
// ("the key in K does not match the certificate in C").
Result<CertifiedKey> load_certified_key(const std::string& cert_file, const std::string& key_file);

// Loads every certificate of a PEM file (CA bundles). Errors as above.
Result<std::vector<X509Ptr>> load_certificates(const std::string& file);

// Warnings for a certificate outside its validity period, naming `file`:
// "certificate in F expired on Jan  1 00:00:00 2026 GMT". Empty when valid.
std::vector<std::string> validity_warnings(X509* cert, const std::string& file);

// "RSA", "EC" (ECDSA), or the OpenSSL type name for other keys.
std::string key_type_name(EVP_PKEY* key);

// The subject's (or issuer's) commonName, "" when it has none.
std::string subject_cn(X509* cert);
std::string issuer_cn(X509* cert);

// --- Making ----------------------------------------------------------------

enum class KeyType { rsa2048, ec_p256 };

struct CertificateSpec {
  KeyType key_type = KeyType::ec_p256;
  std::string common_name;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  int start_days = 0;                  // notBefore, relative to now (negative: past)
  int days = 365;                      // validity from notBefore
  bool is_ca = false;                  // basicConstraints CA:TRUE, keyCertSign
};

struct KeyAndCert {
  EvpPkeyPtr key;
  X509Ptr cert;
};

// A new key and certificate. `issuer` signs it; nullptr: self-signed.
// Errc::invalid with OpenSSL's reason when a step fails (e.g. a DNS name
// OpenSSL refuses).
Result<KeyAndCert> make_certificate(const CertificateSpec& spec, const KeyAndCert* issuer = nullptr);

// Writes the certificate (mode 0644) and the unencrypted key (mode 0600) as
// PEM, each durably (lib/base write_file_durable). Errors name the file.
Result<void> write_pem_files(const KeyAndCert& kc, const std::filesystem::path& cert_file,
                             const std::filesystem::path& key_file);

// make_certificate(spec) self-signed, then write_pem_files.
Result<void> write_self_signed(const CertificateSpec& spec, const std::filesystem::path& cert_file,
                               const std::filesystem::path& key_file);

}  // namespace posthorn::tls

// lib/tls/certificate.cc - PEM loading and throwaway certificates.
#include "lib/tls/certificate.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cctype>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::tls {
namespace {

// PEM files are small; a larger one is not what the setting meant.
constexpr std::size_t kMaxPemBytes = 1u << 20;

Result<BioPtr> read_pem(const std::string& file) {
  if (file.empty()) return Error{Errc::invalid, "no file name given"};
  auto text = read_file(file, kMaxPemBytes);
  if (!text) return std::move(text).error();
  // BIO_new_mem_buf would only borrow the text: copy into a memory BIO instead.
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || BIO_write(bio.get(), text->data(), static_cast<int>(text->size())) !=
                  static_cast<int>(text->size()))
    return Error{Errc::io, cat(file, ": ", openssl_errors())};
  return bio;
}

std::string name_entry(X509_NAME* name) {
  if (!name) return {};
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string asn1_time_text(const ASN1_TIME* t) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "an unreadable date";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Result<std::vector<X509Ptr>> load_certificates(const std::string& file) {
  auto bio = read_pem(file);
  if (!bio) return std::move(bio).error();
  std::vector<X509Ptr> certs;
  // PEM_read_bio_X509 skips blocks of other types (a key in a chain file).
  while (X509* c = PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr))
    certs.emplace_back(c);
  ERR_clear_error();  // the loop ends with a "no start line" error, expected
  if (certs.empty()) return Error{Errc::parse, cat("no PEM certificate in ", file)};
  return certs;
}

Result<CertifiedKey> load_certified_key(const std::string& cert_file, const std::string& key_file) {
  auto certs = load_certificates(cert_file);
  if (!certs) return std::move(certs).error();
  auto bio = read_pem(key_file);
  if (!bio) return std::move(bio).error();
  CertifiedKey ck;
  // A null password callback with no password: an encrypted key fails here
  // instead of prompting on a terminal.
  ck.key.reset(PEM_read_bio_PrivateKey(bio->get(), nullptr,
                                       [](char*, int, int, void*) { return 0; }, nullptr));
  if (!ck.key)
    return Error{Errc::parse, cat("no unencrypted PEM private key in ", key_file, ": ",
                                  openssl_errors())};
  ck.cert = std::move((*certs)[0]);
  if (X509_check_private_key(ck.cert.get(), ck.key.get()) != 1) {
    ERR_clear_error();
    return Error{Errc::invalid, cat("the private key in ", key_file,
                                    " does not match the certificate in ", cert_file)};
  }
  ck.chain.reset(sk_X509_new_null());
  if (!ck.chain) return Error{Errc::io, "out of memory"};
  for (std::size_t i = 1; i < certs->size(); ++i)
    if (sk_X509_push(ck.chain.get(), (*certs)[i].get()) > 0) (*certs)[i].release();
  return ck;
}

std::vector<std::string> validity_warnings(X509* cert, const std::string& file) {
  std::vector<std::string> out;
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  const ASN1_TIME* not_before = X509_get0_notBefore(cert);
  if (X509_cmp_current_time(not_after) <= 0)
    out.push_back(cat("certificate in ", file, " expired on ", asn1_time_text(not_after)));
  if (X509_cmp_current_time(not_before) > 0)
    out.push_back(cat("certificate in ", file, " is not valid before ", asn1_time_text(not_before)));
  return out;
}

std::string key_type_name(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_EC: return "EC";
    default: {
      const char* n = EVP_PKEY_get0_type_name(key);
      return n ? n : "unknown";
    }
  }
}

std::string subject_cn(X509* cert) { return cert ? name_entry(X509_get_subject_name(cert)) : ""; }
std::string issuer_cn(X509* cert) { return cert ? name_entry(X509_get_issuer_name(cert)) : ""; }

namespace {

EvpPkeyPtr new_key(KeyType type) {
  if (type == KeyType::rsa2048) return EvpPkeyPtr(EVP_RSA_gen(2048));
  return EvpPkeyPtr(EVP_EC_gen("P-256"));
}

bool dns_name_ok(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)  // also keeps ',' and ':' out of the extension text below
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*'))
      return false;
  return true;
}

bool add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  Owned<X509_EXTENSION, X509_EXTENSION_free> ext(
      X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool set_serial(X509* cert) {
  Owned<BIGNUM, BN_free> bn(BN_new());
  if (!bn || BN_rand(bn.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) return false;
  return BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool set_names_and_dates(X509* cert, const CertificateSpec& spec, X509* issuer) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const auto* cn = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) return false;
  if (X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject) != 1)
    return false;
  const long day = 24L * 60 * 60;
  return X509_gmtime_adj(X509_getm_notBefore(cert), spec.start_days * day) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), (spec.start_days + spec.days) * day);
}

bool add_extensions(X509* cert, const CertificateSpec& spec, X509* issuer) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  bool ok = add_ext(cert, &ctx, NID_basic_constraints,
                    spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            add_ext(cert, &ctx, NID_key_usage,
                    spec.is_ca ? "critical,keyCertSign,cRLSign"
                               : "critical,digitalSignature,keyEncipherment") &&
            add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
  if (ok && issuer) ok = add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
  std::vector<std::string> alt;
  for (const std::string& n : spec.dns_names) alt.push_back("DNS:" + n);
  if (ok && !alt.empty()) ok = add_ext(cert, &ctx, NID_subject_alt_name, join(alt, ","));
  return ok;
}

}  // namespace

Result<KeyAndCert> make_certificate(const CertificateSpec& spec, const KeyAndCert* issuer) {
  for (const std::string& n : spec.dns_names)
    if (!dns_name_ok(n)) return Error{Errc::invalid, cat("bad DNS name \"", printable(n), "\"")};
  if (spec.days <= 0)
    return Error{Errc::invalid, "certificate validity must be at least one day"};
  KeyAndCert kc;
  kc.key = new_key(spec.key_type);
  kc.cert.reset(X509_new());
  X509* signer = issuer ? issuer->cert.get() : nullptr;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : kc.key.get();
  if (!kc.key || !kc.cert || X509_set_version(kc.cert.get(), X509_VERSION_3) != 1 ||
      !set_serial(kc.cert.get()) || X509_set_pubkey(kc.cert.get(), kc.key.get()) != 1 ||
      !set_names_and_dates(kc.cert.get(), spec, signer) ||
      !add_extensions(kc.cert.get(), spec, signer) ||
      X509_sign(kc.cert.get(), signing_key, EVP_sha256()) <= 0)
    return Error{Errc::invalid, cat("cannot make a certificate for \"", printable(spec.common_name),
                                    "\": ", openssl_errors())};
  return kc;
}

namespace {
Result<std::string> pem_text(const KeyAndCert& kc, bool key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int ok = !bio ? 0
           : key ? PEM_write_bio_PrivateKey(bio.get(), kc.key.get(), nullptr, nullptr, 0,
                                            nullptr, nullptr)
                 : PEM_write_bio_X509(bio.get(), kc.cert.get());
  if (ok != 1) return Error{Errc::invalid, "cannot encode PEM: " + openssl_errors()};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}
}  // namespace

Result<void> write_pem_files(const KeyAndCert& kc, const std::filesystem::path& cert_file,
                             const std::filesystem::path& key_file) {
  auto cert = pem_text(kc, false);
  if (!cert) return std::move(cert).error();
  auto key = pem_text(kc, true);
  if (!key) return std::move(key).error();
  // The key first: a certificate on disk without its key would be useless.
  if (auto r = write_file_durable(key_file, *key, 0600); !r) return r;
  return write_file_durable(cert_file, *cert, 0644);
}

Result<void> write_self_signed(const CertificateSpec& spec, const std::filesystem::path& cert_file,
                               const std::filesystem::path& key_file) {
  auto kc = make_certificate(spec);
  if (!kc) return std::move(kc).error();
  return write_pem_files(*kc, cert_file, key_file);
}

}  // namespace posthorn::tls

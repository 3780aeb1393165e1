#include "lib/tls/certificate.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "t/unit/lib/tls/tls_test_util.h"

using namespace posthorn;
using namespace posthorn::tls;
using posthorn::tls::test::Pki;
using posthorn::tls::test::TempDir;

namespace {
unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}
}  // namespace

TEST_CASE("a self-signed certificate is written as PEM, the key private", "[tls][cert]") {
  TempDir dir;
  for (KeyType type : {KeyType::ec_p256, KeyType::rsa2048}) {
    CertificateSpec spec;
    spec.key_type = type;
    spec.common_name = "mail.example.org";
    spec.dns_names = {"mail.example.org", "smtp.example.org"};
    spec.days = 30;
    REQUIRE(write_self_signed(spec, dir.at("c.pem"), dir.at("c.key")));
    CHECK(mode_of(dir.at("c.key")) == 0600);
    CHECK(mode_of(dir.at("c.pem")) == 0644);
    auto ck = load_certified_key(dir.at("c.pem"), dir.at("c.key"));
    REQUIRE(ck);
    CHECK(key_type_name(ck->key.get()) == (type == KeyType::rsa2048 ? "RSA" : "EC"));
    CHECK(subject_cn(ck->cert.get()) == "mail.example.org");
    CHECK(issuer_cn(ck->cert.get()) == "mail.example.org");
    CHECK(X509_check_host(ck->cert.get(), "smtp.example.org", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(ck->cert.get(), "other.example.org", 0, 0, nullptr) == 0);
    CHECK(validity_warnings(ck->cert.get(), "c.pem").empty());
    CHECK(sk_X509_num(ck->chain.get()) == 0);
  }
}

TEST_CASE("bad certificate requests are refused", "[tls][cert]") {
  CertificateSpec spec;
  spec.common_name = "x";
  spec.dns_names = {"a.example,DNS:evil.example"};
  auto r = make_certificate(spec);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid);
  spec.dns_names = {""};
  CHECK_FALSE(make_certificate(spec));
  spec.dns_names = {};
  spec.days = 0;
  CHECK_FALSE(make_certificate(spec));
}

TEST_CASE("a chain file holds key, certificate and chain in one", "[tls][cert]") {
  Pki pki;
  std::string leaf = pki.issue("leaf", "mx.example.org", {"mx.example.org"});
  auto key_text = read_file(pki.key("leaf"));
  auto leaf_text = read_file(leaf);
  auto ca_text = read_file(pki.ca_file);
  REQUIRE((key_text && leaf_text && ca_text));
  std::string chain_file = pki.dir.at("chain.pem");
  REQUIRE(write_file_durable(chain_file, *key_text + *leaf_text + *ca_text, 0600));
  auto ck = load_certified_key(chain_file, chain_file);
  REQUIRE(ck);
  CHECK(subject_cn(ck->cert.get()) == "mx.example.org");
  CHECK(issuer_cn(ck->cert.get()) == "Posthorn Test CA");
  REQUIRE(sk_X509_num(ck->chain.get()) == 1);
  CHECK(subject_cn(sk_X509_value(ck->chain.get(), 0)) == "Posthorn Test CA");
}

TEST_CASE("loading errors name the file and the problem", "[tls][cert]") {
  Pki pki;
  std::string a = pki.issue("a", "a.example", {"a.example"});
  std::string b = pki.issue("b", "b.example", {"b.example"});
  std::string junk = pki.dir.at("junk.pem");
  REQUIRE(write_file_durable(junk, "not a certificate\n"));
  std::string missing = pki.dir.at("missing.pem");

  auto r = load_certified_key(missing, pki.key("a"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK_THAT(r.error().detail, Catch::Contains(missing));

  r = load_certified_key(a, pki.key("b"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().detail ==
        "the private key in " + pki.key("b") + " does not match the certificate in " + a);

  r = load_certified_key(junk, pki.key("a"));
  REQUIRE_FALSE(r);
  CHECK(r.error().detail == "no PEM certificate in " + junk);

  r = load_certified_key(a, a);  // a certificate file with no key in it
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().detail, Catch::StartsWith("no unencrypted PEM private key in " + a));

  if (::geteuid() != 0) {  // root reads anything
    REQUIRE(::chmod(pki.key("a").c_str(), 0) == 0);
    r = load_certified_key(a, pki.key("a"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::permission);
    CHECK_THAT(r.error().detail, Catch::Contains(pki.key("a")));
  }
  CHECK(ERR_peek_error() == 0);  // no stale OpenSSL errors left behind
}

TEST_CASE("an expired or not yet valid certificate gives a warning", "[tls][cert]") {
  CertificateSpec spec;
  spec.common_name = "old.example";
  spec.start_days = -10;
  spec.days = 5;
  auto old = make_certificate(spec);
  REQUIRE(old);
  auto w = validity_warnings(old->cert.get(), "/etc/old.pem");
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::StartsWith("certificate in /etc/old.pem expired on "));
  CHECK_THAT(w[0], Catch::EndsWith(" GMT"));

  spec.start_days = 2;
  auto early = make_certificate(spec);
  REQUIRE(early);
  w = validity_warnings(early->cert.get(), "early.pem");
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::StartsWith("certificate in early.pem is not valid before "));
}

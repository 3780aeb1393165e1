#include "lib/tls/server.h"

#include <openssl/err.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/base/file.h"
#include "lib/tls/client.h"
#include "t/unit/lib/tls/tls_test_util.h"

using namespace posthorn;
using namespace posthorn::tls;
using posthorn::tls::test::Handshake;
using posthorn::tls::test::Pki;
using posthorn::tls::test::run_handshake;

namespace {

SslPtr client_ssl(SecurityLevel level = SecurityLevel::may, const std::string& ca = "",
                  ClientSettings s = {}) {
  s.ca_file = ca;
  auto c = ClientContext::create(s);
  REQUIRE(c);
  ClientPeer p;
  p.level = level;
  p.nexthop = "example.org";
  p.hostname = "mx.example.org";
  auto ssl = c->new_session(p);
  REQUIRE(ssl);
  return std::move(*ssl);  // holds its own reference to the context
}

Result<ServerContext> make(std::vector<CertKeyFiles> certs, ServerSettings s = {}) {
  s.certificates = std::move(certs);
  return make_server_context(s);
}

}  // namespace

TEST_CASE("RSA and ECDSA certificates side by side; the client's choice decides",
          "[tls][server]") {
  Pki pki;
  std::string rsa = pki.issue("rsa", "rsa.example.org", {"mx.example.org"}, false, KeyType::rsa2048);
  std::string ec = pki.issue("ec", "ec.example.org", {"mx.example.org"});
  auto ctx = make({{rsa, pki.key("rsa")}, {ec, pki.key("ec")}});
  REQUIRE(ctx);
  const std::pair<const char*, const char*> rows[] = {
      {"rsa_pss_rsae_sha256", "rsa.example.org"}, {"ecdsa_secp256r1_sha256", "ec.example.org"}};
  for (auto [sigalgs, cn] : rows) {
    INFO(sigalgs);
    SslPtr client = client_ssl(SecurityLevel::verify, pki.ca_file);
    REQUIRE(SSL_set1_sigalgs_list(client.get(), sigalgs) == 1);
    Handshake h = run_handshake(new_server_ssl(ctx->ctx.get()), std::move(client));
    REQUIRE(h.client.ready);
    CHECK(h.client.info.verification == Verification::verified);
    CHECK(h.client.info.peer_cn == cn);
  }
  // Two of one key type is a configuration mistake, not a silent override.
  std::string ec2 = pki.issue("ec2", "mx.example.org", {"mx.example.org"});
  auto dup = make({{ec, pki.key("ec")}, {ec2, pki.key("ec2")}});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().detail == "a second EC certificate in " + ec2 + ": one per key type (RSA, EC)");
}

TEST_CASE("server loading errors name the file", "[tls][server]") {
  Pki pki;
  std::string a = pki.issue("a", "a.example", {"a.example"});
  std::string b = pki.issue("b", "b.example", {"b.example"});
  auto r = make({});
  REQUIRE_FALSE(r);
  CHECK(r.error().detail == "no TLS server certificate configured");
  r = make({{pki.dir.at("nope.pem"), ""}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK_THAT(r.error().detail, Catch::Contains(pki.dir.at("nope.pem")));
  r = make({{a, pki.key("b")}});
  REQUIRE_FALSE(r);
  CHECK(r.error().detail ==
        "the private key in " + pki.key("b") + " does not match the certificate in " + a);
  ServerSettings bad_ca;
  bad_ca.ca_file = pki.dir.at("no-ca.pem");
  r = make({{a, pki.key("a")}}, bad_ca);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().detail, Catch::Contains(bad_ca.ca_file));
  ServerSettings bad_protocols;
  bad_protocols.protocols = ">=TLSv2";
  r = make({{a, pki.key("a")}}, bad_protocols);
  REQUIRE_FALSE(r);
  CHECK(r.error().detail == "unknown TLS protocol \">=TLSv2\"");
  ServerSettings bad_grade;
  bad_grade.ciphers = "export";
  CHECK_FALSE(make({{a, pki.key("a")}}, bad_grade));
}

TEST_CASE("an expired server certificate loads with a warning", "[tls][server]") {
  Pki pki;
  CertificateSpec spec;
  spec.common_name = "old.example";
  spec.start_days = -30;
  spec.days = 10;
  auto old = make_certificate(spec, &pki.ca);
  REQUIRE(old);
  REQUIRE(write_pem_files(*old, pki.dir.at("old.pem"), pki.dir.at("old.key")));
  auto ctx = make({{pki.dir.at("old.pem"), pki.dir.at("old.key")}});
  REQUIRE(ctx);
  REQUIRE(ctx->warnings.size() == 1);
  CHECK_THAT(ctx->warnings[0],
             Catch::StartsWith("certificate in " + pki.dir.at("old.pem") + " expired on "));
}

TEST_CASE("protocol settings on both sides decide the version", "[tls][server]") {
  Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  ServerSettings only12;
  only12.protocols = "TLSv1.2";
  auto ctx = make({{cert, pki.key("mx")}}, only12);
  REQUIRE(ctx);
  Handshake h = run_handshake(new_server_ssl(ctx->ctx.get()), client_ssl());
  REQUIRE(h.client.ready);
  CHECK(h.client.info.protocol == "TLSv1.2");
  CHECK(h.client.info.cipher_bits >= 128);

  ClientSettings want13;
  want13.protocols = ">=TLSv1.3";
  Handshake refused = run_handshake(new_server_ssl(ctx->ctx.get()),
                                    client_ssl(SecurityLevel::may, "", want13));
  CHECK_FALSE(refused.client.ready);
  REQUIRE(refused.client.closed);
  CHECK(refused.client.closed->code == Errc::protocol);
}

TEST_CASE("a requested client certificate is reported, never required", "[tls][server]") {
  Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  std::string ccert = pki.issue("client", "client.example", {"client.example"});
  ServerSettings ask;
  ask.ask_client_cert = true;
  ask.ca_file = pki.ca_file;
  auto ctx = make({{cert, pki.key("mx")}}, ask);
  REQUIRE(ctx);

  Handshake without = run_handshake(new_server_ssl(ctx->ctx.get()), client_ssl());
  REQUIRE(without.server.ready);
  CHECK(without.server.info.verification == Verification::anonymous);

  ClientSettings with;
  with.cert_file = ccert;
  with.key_file = pki.key("client");
  Handshake h = run_handshake(new_server_ssl(ctx->ctx.get()),
                              client_ssl(SecurityLevel::may, "", with));
  REQUIRE(h.server.ready);
  CHECK(h.server.received == "EHLO client.example\r\n");
  CHECK(h.server.info.verification == Verification::trusted);
  CHECK(h.server.info.peer_cn == "client.example");

  std::string self = pki.issue("selfc", "self.example", {}, true);
  with.cert_file = self;
  with.key_file = pki.key("selfc");
  Handshake u = run_handshake(new_server_ssl(ctx->ctx.get()),
                              client_ssl(SecurityLevel::may, "", with));
  REQUIRE(u.server.ready);
  CHECK(u.server.info.verification == Verification::untrusted);
}

TEST_CASE("new sessions pick up a renewed certificate; a broken renewal keeps the old",
          "[tls][server]") {
  Pki pki;
  std::string cert = pki.issue("mx", "old.example.org", {"mx.example.org"});
  ServerSettings s;
  s.certificates = {{cert, pki.key("mx")}};
  auto reloading = ReloadingServerContext::create(s);
  REQUIRE(reloading);
  Handshake before = run_handshake(reloading->new_ssl(), client_ssl());
  REQUIRE(before.client.ready);
  CHECK(before.client.info.peer_cn == "old.example.org");

  pki.issue("mx", "new.example.org", {"mx.example.org"});  // renews both files
  Handshake after = run_handshake(reloading->new_ssl(), client_ssl());
  REQUIRE(after.client.ready);
  CHECK(after.client.info.peer_cn == "new.example.org");

  // Only the certificate replaced: it no longer matches the key on disk.
  pki.issue("other", "broken.example.org", {"mx.example.org"});
  std::filesystem::copy_file(pki.dir.at("other.pem"), cert,
                             std::filesystem::copy_options::overwrite_existing);
  Handshake broken = run_handshake(reloading->new_ssl(), client_ssl());
  REQUIRE(broken.client.ready);
  CHECK(broken.client.info.peer_cn == "new.example.org");
}

TEST_CASE("client settings errors name the file or setting", "[tls][client]") {
  Pki pki;
  ClientSettings s;
  s.ca_file = pki.dir.at("missing-ca.pem");
  auto c = ClientContext::create(s);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == Errc::not_found);
  CHECK_THAT(c.error().detail, Catch::Contains(s.ca_file));
  ClientSettings p;
  p.mandatory_protocols = "TLSv1.5";
  c = ClientContext::create(p);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == Errc::parse);
  ClientSettings g;
  g.ciphers = "low";
  CHECK_FALSE(ClientContext::create(g));
  std::string a = pki.issue("a", "a.example", {});
  std::string b = pki.issue("b", "b.example", {});
  ClientSettings k;
  k.cert_file = a;
  k.key_file = pki.key("b");
  c = ClientContext::create(k);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().detail, Catch::Contains("does not match the certificate in " + a));
}

TEST_CASE("session tickets follow the lifetime; 0 turns them off", "[tls][server]") {
  Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  ServerSettings on;
  on.ticket_lifetime = std::chrono::seconds(600);
  auto a = make({{cert, pki.key("mx")}}, on);
  REQUIRE(a);
  CHECK(SSL_CTX_get_timeout(a->ctx.get()) == 600);
  CHECK((SSL_CTX_get_options(a->ctx.get()) & SSL_OP_NO_TICKET) == 0);
  CHECK(SSL_CTX_get_session_cache_mode(a->ctx.get()) == SSL_SESS_CACHE_OFF);
  ServerSettings off;
  off.ticket_lifetime = std::chrono::seconds(0);
  auto b = make({{cert, pki.key("mx")}}, off);
  REQUIRE(b);
  CHECK((SSL_CTX_get_options(b->ctx.get()) & SSL_OP_NO_TICKET) != 0);
  CHECK(SSL_CTX_get_num_tickets(b->ctx.get()) == 0);
}

TEST_CASE("successful set-up leaves no OpenSSL errors queued", "[tls][server][client]") {
  // A stale entry in the thread's error queue would be blamed on the next
  // TLS read or write of an unrelated connection.
  Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  ServerSettings s;
  s.ca_file = pki.ca_file;
  s.ask_client_cert = true;
  REQUIRE(make({{cert, pki.key("mx")}}, s));
  CHECK(ERR_peek_error() == 0);
  ClientSettings c;
  c.cert_file = cert;
  c.key_file = pki.key("mx");
  REQUIRE(ClientContext::create(c));
  CHECK(ERR_peek_error() == 0);
  c.ca_file = pki.ca_file;
  REQUIRE(ClientContext::create(c));
  CHECK(ERR_peek_error() == 0);
}

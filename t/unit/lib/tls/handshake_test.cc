// Real handshakes between lib/tls's server and client contexts, both ends
// on one event loop through event::Connection (lib/event's TLS path).
#include <catch2/catch.hpp>

#include "lib/tls/client.h"
#include "lib/tls/server.h"
#include "t/unit/lib/tls/tls_test_util.h"

using namespace posthorn;
using namespace posthorn::tls;
using posthorn::tls::test::Handshake;
using posthorn::tls::test::Pki;
using posthorn::tls::test::run_handshake;

namespace {

SslCtxPtr server_ctx(const std::string& cert, const std::string& key,
                     ServerSettings s = {}) {
  s.certificates = {{cert, key}};
  auto ctx = make_server_context(s);
  REQUIRE(ctx);
  CHECK(ctx->warnings.empty());
  return std::move(ctx->ctx);
}

ClientContext client_ctx(const std::string& ca_file) {
  ClientSettings s;
  s.ca_file = ca_file;
  auto c = ClientContext::create(s);
  REQUIRE(c);
  return std::move(*c);
}

Handshake connect(SSL_CTX* server, const ClientContext& client, const ClientPeer& peer) {
  auto ssl = client.new_session(peer);
  REQUIRE(ssl);
  return run_handshake(new_server_ssl(server), std::move(*ssl));
}

ClientPeer peer(SecurityLevel level, std::string nexthop = "example.org",
                std::string host = "mx.example.org") {
  ClientPeer p;
  p.level = level;
  p.nexthop = std::move(nexthop);
  p.hostname = std::move(host);
  return p;
}

}  // namespace

TEST_CASE("a handshake completes and data flows; the log line has Postfix's shape",
          "[tls][handshake]") {
  Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  SslCtxPtr server = server_ctx(cert, pki.key("mx"));
  ClientContext client = client_ctx(pki.ca_file);
  Handshake h = connect(server.get(), client, peer(SecurityLevel::verify));
  REQUIRE(h.client.ready);
  REQUIRE(h.server.ready);
  CHECK(h.server.received == "EHLO client.example\r\n");
  const SessionInfo& ci = h.client.info;
  CHECK(ci.protocol == "TLSv1.3");
  CHECK(ci.verification == Verification::verified);
  CHECK(ci.matched_name == "mx.example.org");
  CHECK(ci.peer_cn == "mx.example.org");
  CHECK(ci.issuer_cn == "Posthorn Test CA");
  CHECK(ci.verify_error.empty());
  CHECK(ci.cipher_bits > 0);
  CHECK(check_policy(ci, SecurityLevel::verify));
  std::string line = connection_established(ci, "to", "mx.example.org[192.0.2.1]:25");
  CHECK(line == "Verified TLS connection established to mx.example.org[192.0.2.1]:25: TLSv1.3 "
                "with cipher " + ci.cipher + " (" + std::to_string(ci.cipher_bits) + "/" +
                std::to_string(ci.cipher_alg_bits) + " bits)");
  // No client certificate was asked for: the server side sees an anonymous peer.
  CHECK(h.server.info.verification == Verification::anonymous);
  CHECK(connection_established(h.server.info, "from", "client.example[192.0.2.7]")
            .rfind("Anonymous TLS connection established from client.example[192.0.2.7]: TLSv1.3 "
                   "with cipher ", 0) == 0);
}

TEST_CASE("the log line formatter", "[tls][log]") {
  SessionInfo info;
  info.protocol = "TLSv1.3";
  info.cipher = "TLS_AES_256_GCM_SHA384";
  info.cipher_bits = info.cipher_alg_bits = 256;
  const std::pair<Verification, const char*> rows[] = {
      {Verification::anonymous, "Anonymous"}, {Verification::untrusted, "Untrusted"},
      {Verification::trusted, "Trusted"},     {Verification::name_mismatch, "Trusted"},
      {Verification::verified, "Verified"},
  };
  for (auto [v, word] : rows) {
    info.verification = v;
    CHECK(connection_established(info, "to", "mx.example.org[192.0.2.1]:25") ==
          std::string(word) + " TLS connection established to mx.example.org[192.0.2.1]:25: "
                              "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
  }
  CHECK(cipher_summary(info) == "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
}

TEST_CASE("may and encrypt accept an untrusted certificate, verify and secure refuse it",
          "[tls][handshake][levels]") {
  Pki pki;
  std::string cert = pki.issue("self", "mx.example.org", {"mx.example.org"}, true);
  SslCtxPtr server = server_ctx(cert, pki.key("self"));
  ClientContext client = client_ctx(pki.ca_file);
  for (SecurityLevel level : {SecurityLevel::may, SecurityLevel::encrypt}) {
    INFO(level_name(level));
    Handshake h = connect(server.get(), client, peer(level));
    REQUIRE(h.client.ready);
    CHECK(h.server.received == "EHLO client.example\r\n");
    CHECK(h.client.info.verification == Verification::untrusted);
    CHECK(h.client.info.verify_error == "self-signed certificate");
    CHECK(check_policy(h.client.info, level));
    CHECK(connection_established(h.client.info, "to", "mx").rfind("Untrusted TLS", 0) == 0);
  }
  for (SecurityLevel level : {SecurityLevel::verify, SecurityLevel::secure}) {
    INFO(level_name(level));
    Handshake h = connect(server.get(), client, peer(level));
    CHECK_FALSE(h.client.ready);
    CHECK_FALSE(h.server.ready);
    REQUIRE(h.client.closed);
    CHECK(h.client.closed->code == Errc::protocol);
    CHECK(h.server.received.empty());
    CHECK(h.client.info.verification == Verification::untrusted);
    auto policy = check_policy(h.client.info, level);
    REQUIRE_FALSE(policy);
    CHECK(policy.error().detail == "Server certificate not trusted");
  }
}

TEST_CASE("a CA-signed certificate passes may as Trusted, names decide verify and secure",
          "[tls][handshake][levels]") {
  Pki pki;
  // The MX name only, as many providers' certificates are.
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  SslCtxPtr server = server_ctx(cert, pki.key("mx"));
  ClientContext client = client_ctx(pki.ca_file);

  Handshake may = connect(server.get(), client, peer(SecurityLevel::may));
  REQUIRE(may.client.ready);
  CHECK(may.client.info.verification == Verification::trusted);

  // secure: nexthop "example.org" or a subdomain ("dot-nexthop") matches.
  Handshake secure = connect(server.get(), client, peer(SecurityLevel::secure));
  REQUIRE(secure.client.ready);
  CHECK(secure.client.info.verification == Verification::verified);
  CHECK(secure.client.info.matched_name == "mx.example.org");

  // secure for another nexthop: the certificate names none of its names.
  Handshake wrong = connect(server.get(), client, peer(SecurityLevel::secure, "example.net"));
  CHECK_FALSE(wrong.client.ready);
  REQUIRE(wrong.client.closed);
  CHECK(wrong.client.info.verification == Verification::name_mismatch);
  CHECK(wrong.client.info.verify_error == "hostname mismatch");
  auto policy = check_policy(wrong.client.info, SecurityLevel::secure);
  REQUIRE_FALSE(policy);
  CHECK(policy.error().detail == "Server certificate not verified");

  // verify checks the MX host name: a different MX name fails.
  Handshake other_mx = connect(server.get(), client,
                               peer(SecurityLevel::verify, "example.org", "mx2.example.org"));
  CHECK_FALSE(other_mx.client.ready);
  CHECK(other_mx.client.info.verification == Verification::name_mismatch);

  // secure with "nexthop" alone: mx.example.org is not example.org.
  ClientPeer strict = peer(SecurityLevel::secure);
  strict.match = {"nexthop"};
  Handshake s = connect(server.get(), client, strict);
  CHECK_FALSE(s.client.ready);
  CHECK(s.client.info.verification == Verification::name_mismatch);

  // A literal name from smtp_tls_secure_cert_match.
  strict.match = {"nexthop", "MX.Example.ORG."};
  Handshake lit = connect(server.get(), client, strict);
  REQUIRE(lit.client.ready);
  CHECK(lit.client.info.matched_name == "mx.example.org");
}

TEST_CASE("certificate names a level requires", "[tls][levels]") {
  ClientPeer p = peer(SecurityLevel::secure, "Example.ORG.", "MX.example.org");
  CHECK(required_names(p) == std::vector<std::string>{"example.org", ".example.org"});
  p.level = SecurityLevel::verify;
  CHECK(required_names(p) == std::vector<std::string>{"mx.example.org"});
  p.match = {"hostname", "nexthop", ".example.net", "dot-nexthop"};
  CHECK(required_names(p) == std::vector<std::string>{"mx.example.org", "example.org",
                                                        ".example.net", ".example.org"});
  p.level = SecurityLevel::may;
  p.match.clear();
  CHECK(required_names(p).empty());

  ClientContext client = client_ctx("");
  ClientPeer none = peer(SecurityLevel::none);
  CHECK_FALSE(client.new_session(none));
  ClientPeer no_name = peer(SecurityLevel::secure, "");
  auto r = client.new_session(no_name);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid);
  CHECK(client.new_session(peer(SecurityLevel::may, "", "192.0.2.1")));  // no SNI, no error
}

TEST_CASE("security level names", "[tls][levels]") {
  CHECK(*parse_security_level("") == SecurityLevel::none);
  CHECK(*parse_security_level("none") == SecurityLevel::none);
  CHECK(*parse_security_level("MAY") == SecurityLevel::may);
  CHECK(*parse_security_level("encrypt") == SecurityLevel::encrypt);
  CHECK(*parse_security_level("verify") == SecurityLevel::verify);
  CHECK(*parse_security_level("secure") == SecurityLevel::secure);
  for (const char* bad : {"dane", "fingerprint", " may", "may ", "securee"}) {
    INFO(bad);
    CHECK_FALSE(parse_security_level(bad));
  }
  CHECK(level_name(SecurityLevel::encrypt) == "encrypt");
}

TEST_CASE("STARTTLS over a plain connection; plaintext pipelined after it is discarded",
          "[tls][handshake][starttls]") {
  using namespace std::chrono_literals;
  Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  SslCtxPtr server_tls = server_ctx(cert, pki.key("mx"));
  ClientContext client_tls = client_ctx(pki.ca_file);
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  event::EventBase base;
  auto server = event::Connection::plain(base, Fd(sv[0]));
  auto client = event::Connection::plain(base, Fd(sv[1]));
  std::vector<std::string> server_lines;
  bool client_tls_ready = false, failed = false;
  SessionInfo client_info;
  server->on_read([&] {
    for (;;) {
      auto line = server->read_line();
      if (!line || !*line) return;
      server_lines.push_back(**line);
      if (**line == "STARTTLS\r\n") {
        server->write("220 2.0.0 Ready to start TLS\r\n");
        server->start_tls(new_server_ssl(server_tls.get()), event::TlsRole::server);
        return;  // what followed STARTTLS in this read is gone (RFC 3207 section 4.2)
      }
    }
  });
  client->on_read([&] {
    auto line = client->read_line();
    if (!line || !*line || client->ssl()) return;
    REQUIRE(**line == "220 2.0.0 Ready to start TLS\r\n");
    auto ssl = client_tls.new_session(peer(SecurityLevel::secure));
    REQUIRE(ssl);
    client->start_tls(std::move(*ssl), event::TlsRole::client);
  });
  client->on_tls_ready([&] {
    client_tls_ready = true;
    client_info = session_info(client->ssl());
    client->write("EHLO client.example\r\n");
  });
  server->on_close([&](const Error&) { failed = true; });
  client->on_close([&](const Error&) { failed = true; });
  // One write: the injected command arrives in the same packet as STARTTLS.
  client->write("STARTTLS\r\nMAIL FROM:<injected@example.net>\r\n");
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(10s);
  while (server_lines.size() < 2 && !failed && guard.pending()) REQUIRE(base.run_once());
  REQUIRE_FALSE(failed);
  REQUIRE(server_lines.size() == 2);
  CHECK(server_lines[0] == "STARTTLS\r\n");
  CHECK(server_lines[1] == "EHLO client.example\r\n");
  CHECK(client_tls_ready);
  CHECK(client_info.verification == Verification::verified);
  CHECK(server->ssl() != nullptr);
}

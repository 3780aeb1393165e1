// Helpers shared by the lib/tls unit tests: a temporary directory, a test
// PKI made with lib/tls's own certificate helper, and a handshake between a
// server and a client SSL driven through event::Connection on one loop.
#pragma once

#include <stdlib.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "lib/event/connection.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/tls/certificate.h"
#include "lib/tls/session.h"

namespace posthorn::tls::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "posthorn-tls-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string at(const std::string& name) const { return (path / name).string(); }
};

// A test CA, certificates it signed, and a self-signed one, as PEM files.
struct Pki {
  TempDir dir;
  KeyAndCert ca;
  std::string ca_file = dir.at("ca.pem");

  Pki() {
    CertificateSpec spec;
    spec.common_name = "Posthorn Test CA";
    spec.is_ca = true;
    auto made = make_certificate(spec);
    REQUIRE(made);
    ca = std::move(*made);
    REQUIRE(write_pem_files(ca, ca_file, dir.at("ca.key")));
  }

  // Writes NAME.pem and NAME.key: a certificate for `cn` with `dns` as its
  // subjectAltNames, signed by the CA (or self-signed). Returns NAME.pem.
  std::string issue(const std::string& name, const std::string& cn,
                    std::vector<std::string> dns, bool self_signed = false,
                    KeyType type = KeyType::ec_p256) {
    CertificateSpec spec;
    spec.common_name = cn;
    spec.dns_names = std::move(dns);
    spec.key_type = type;
    auto made = make_certificate(spec, self_signed ? nullptr : &ca);
    REQUIRE(made);
    REQUIRE(write_pem_files(*made, dir.at(name + ".pem"), dir.at(name + ".key")));
    return dir.at(name + ".pem");
  }
  std::string key(const std::string& name) const { return dir.at(name + ".key"); }
};

// What each side saw. `ready`: the handshake completed on that side.
struct Side {
  bool ready = false;
  std::optional<Error> closed;
  SessionInfo info;
  std::string received;  // a line the other side sent after the handshake
};
struct Handshake {
  Side server, client;
};

// Runs a handshake over a socketpair with both ends on one EventBase; after
// it, the client sends "EHLO client.example\r\n" and the server reads it, so
// application data is shown to flow. Stops when the server has the line or
// either side closed; a 10 s guard turns a hang into a failure.
inline Handshake run_handshake(SslPtr server_ssl, SslPtr client_ssl) {
  using namespace std::chrono_literals;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Fd server_fd(sv[0]), client_fd(sv[1]);
  event::EventBase base;
  Handshake h;
  auto server = event::Connection::tls(base, std::move(server_fd), std::move(server_ssl),
                                       event::TlsRole::server);
  auto client = event::Connection::tls(base, std::move(client_fd), std::move(client_ssl),
                                       event::TlsRole::client);
  server->on_tls_ready([&] {
    h.server.ready = true;
    h.server.info = session_info(server->ssl());
  });
  server->on_read([&] {
    auto line = server->read_line();
    if (line && *line) h.server.received = **line;
  });
  client->on_tls_ready([&] {
    h.client.ready = true;
    h.client.info = session_info(client->ssl());
    client->write("EHLO client.example\r\n");
  });
  server->on_close([&](const Error& e) {
    h.server.closed = e;
    if (!h.server.ready) h.server.info = session_info(server->ssl());
  });
  client->on_close([&](const Error& e) {
    h.client.closed = e;
    if (!h.client.ready) h.client.info = session_info(client->ssl());
  });
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(10s);
  auto done = [&] {
    return !h.server.received.empty() || (h.client.closed && h.server.closed) ||
           (h.client.closed && h.server.ready) || (h.server.closed && h.client.ready);
  };
  while (!done() && guard.pending()) REQUIRE(base.run_once());
  REQUIRE(guard.pending());
  return h;
}

}  // namespace posthorn::tls::test

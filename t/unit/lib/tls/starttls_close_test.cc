// close_after_flush() on a connection that went through STARTTLS: the
// encrypted bytes wait in the underlying bufferevent after the TLS filter
// has emptied its own output, and must reach the peer before the close.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "lib/event/connection.h"
#include "lib/event/timer.h"
#include "lib/tls/server.h"
#include "t/unit/lib/tls/tls_test_util.h"

using namespace posthorn;
using namespace posthorn::tls;
using namespace std::chrono_literals;

TEST_CASE("close after flush under STARTTLS delivers every byte", "[tls][starttls][event]") {
  test::Pki pki;
  std::string cert = pki.issue("mx", "mx.example.org", {"mx.example.org"});
  ServerSettings ss;
  ss.certificates = {{cert, pki.key("mx")}};
  auto server_ctx = make_server_context(ss);
  REQUIRE(server_ctx);
  SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(client_ctx);
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  event::EventBase base;
  auto server = event::Connection::plain(base, Fd(sv[0]));
  auto client = event::Connection::plain(base, Fd(sv[1]));
  // More than the socket buffers hold: the underlying output cannot be empty
  // when the filter's is.
  const std::string payload(2 * 1024 * 1024, 'x');
  std::string received;
  bool server_closed = false, client_closed = false;
  server->on_tls_ready([&] {
    server->write(payload);
    server->write("221 2.0.0 Bye\r\n");
    server->close_after_flush();
  });
  server->on_close([&](const Error& e) {
    CHECK(e.code == Errc::closed);
    server_closed = true;
    server.reset();  // as smtpd does: the connection goes at once
  });
  client->on_read([&] { received += client->read(client->input_size()); });
  client->on_close([&](const Error&) { client_closed = true; });
  server->start_tls(new_server_ssl(server_ctx->ctx.get()), event::TlsRole::server);
  client->start_tls(SslPtr(SSL_new(client_ctx.get())), event::TlsRole::client);
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(20s);
  while (!client_closed && guard.pending()) REQUIRE(base.run_once());
  CHECK(server_closed);
  CHECK(received.size() == payload.size() + 15);
  CHECK(received.ends_with("221 2.0.0 Bye\r\n"));
}

// The auth service's connections (auth/server.h) with the event-driven
// client of lib/auth, over a socketpair on one loop.
#include "auth/server.h"

#include <sys/socket.h>

#include <catch2/catch.hpp>

#include <vector>

#include "lib/auth/client.h"
#include "lib/auth/password.h"
#include "lib/ipc/client.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::auth;
using namespace std::chrono_literals;

namespace {

struct Rig {
  test::TempDir dir{"authd"};
  event::EventBase base;
  std::unique_ptr<Server> server;
  std::unique_ptr<ipc::Client> client;

  explicit Rig(std::chrono::milliseconds delay) {
    auto bob = make_hash(Scheme::sha512_crypt, "s3cret");
    REQUIRE(bob);
    auto checker = Checker::open({"texthash:" + dir.file("passwd", "bob " + *bob + "\n")}, false, 10);
    REQUIRE(checker);
    ServerSettings s;
    s.failure_delay = delay;
    server = std::make_unique<Server>(base, std::move(*checker), s);
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    server->adopt(Fd(sv[0]), service::Job());
    client = std::make_unique<ipc::Client>(base, Fd(sv[1]), ipc::ClientOptions{kProtocol});
  }
  template <class F>
  void run_until(F done) {
    event::Timer guard(base, [&] { base.break_loop(); });
    guard.start(10s);
    while (!done() && guard.pending()) REQUIRE(base.run_once());
    REQUIRE(done());
  }
};

struct Other {
  static constexpr std::string_view kName = "other";
  using Reply = Checked;
  void fields(auto&) {}
};
struct Partial {  // a check without a password attribute
  static constexpr std::string_view kName = "check";
  using Reply = Checked;
  std::string login = "bob";
  void fields(auto& f) { f("login", login); }
};

Check req(std::string login, std::string password) {
  return Check{std::move(login), std::move(password), "smtpd", "192.0.2.1"};
}

}  // namespace

TEST_CASE("a delayed failure does not hold a later success", "[auth][server]") {
  Rig rig(300ms);
  std::vector<std::string> order;
  rig.client->request(req("bob", "wrong"), 5s, [&](Result<Checked> r) {
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK_FALSE(r->temporary);
    order.push_back("wrong");
  });
  rig.client->request(req("bob", "s3cret"), 5s, [&](Result<Checked> r) {
    REQUIRE(r);
    CHECK(r->ok);
    CHECK(r->login == "bob");
    order.push_back("right");
  });
  rig.run_until([&] { return order.size() == 2; });
  CHECK(order == std::vector<std::string>{"right", "wrong"});
}

TEST_CASE("requests other than check get an error; the connection stays", "[auth][server]") {
  Rig rig(0ms);
  std::optional<Error> other, partial;
  bool right = false;
  rig.client->request(Other{}, 5s, [&](Result<Checked> r) { other = r ? Error{} : r.error(); });
  rig.client->request(Partial{}, 5s, [&](Result<Checked> r) { partial = r ? Error{} : r.error(); });
  rig.client->request(req("bob", "s3cret"), 5s, [&](Result<Checked> r) { right = r && r->ok; });
  rig.run_until([&] { return other && partial && right; });
  CHECK(other->code == Errc::unsupported);
  CHECK(partial->code == Errc::protocol);
}

TEST_CASE("a delayed answer for a connection that ended is dropped", "[auth][server]") {
  Rig rig(200ms);
  rig.client->request(req("bob", "wrong"), 5s, [](Result<Checked>) {});
  event::Timer hang_up(rig.base, [&] { rig.client.reset(); });
  hang_up.start(50ms);  // the request has reached the server by then
  rig.run_until([&] { return rig.server->connections() == 0; });
  CHECK(rig.server->delayed() == 1);
  // Past the delay: the answer finds no connection and is dropped.
  rig.run_until([&] { return rig.server->delayed() == 0; });
}

TEST_CASE("the async client reports a missing service from the loop, as temporary",
          "[auth][client]") {
  test::TempDir dir("authc");
  event::EventBase base;
  Client c(base, (dir / "no-such-socket").string(), 1s);
  bool inside = true, called = false;
  c.check(req("bob", "x"), [&](Result<Checked> r) {
    CHECK_FALSE(inside);  // never from inside check()
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::not_found);
    called = true;
  });
  inside = false;
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(5s);
  while (!called && guard.pending()) REQUIRE(base.run_once());
  CHECK(called);
}

TEST_CASE("the non-blocking connect names its errors", "[auth][client]") {
  test::TempDir dir("authc");
  CHECK(connect_nonblocking((dir / "missing").string()).error().code == Errc::not_found);
  CHECK(connect_nonblocking(std::string(200, 'x')).error().code == Errc::invalid);
  CHECK(service_socket("auth") == "private/auth");
  CHECK(service_socket("/run/auth.sock") == "/run/auth.sock");
}

#include <sys/socket.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <atomic>
#include <thread>

#include "lib/event/timer.h"
#include "t/unit/support/temp_dir.h"
#include "lib/ipc/blocking_client.h"
#include "lib/ipc/client.h"
#include "lib/ipc/server.h"
#include "lib/ipc/unix_socket.h"

using namespace posthorn;
using namespace posthorn::ipc;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
struct EchoReply {
  static constexpr std::string_view kName = "echo_reply";
  std::string text;
  unsigned count = 0;
  void fields(auto& f) { f("text", text); f("count", count); }
};
struct Echo {
  static constexpr std::string_view kName = "echo";
  using Reply = EchoReply;
  std::string text;
  void fields(auto& f) { f("text", text); }
};
struct Silent {  // the server never answers this one in time
  static constexpr std::string_view kName = "silent";
  using Reply = EchoReply;
  void fields(auto&) {}
};
struct Unknown {
  static constexpr std::string_view kName = "unknown";
  using Reply = EchoReply;
  void fields(auto&) {}
};

const Protocol kProto{"echo", 1};

using test::TempDir;

template <class F>
void run_until(event::EventBase& base, F done) {
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(10s);
  while (!done() && guard.pending()) REQUIRE(base.run_once());
}

struct Fixture {
  TempDir dir;
  std::string path = (dir.path() / "echo").string();
  event::EventBase base;
  unsigned served = 0;
  std::vector<Replier> held;
  Server server{base, listen_unix(path, 0600).value(), ServerOptions{kProto}};
  Fixture() {
    server.handle<Echo>([this](Echo e, Replier r) { r.reply(EchoReply{e.text, ++served}); });
    server.handle<Silent>([this](Silent, Replier r) { held.push_back(std::move(r)); });
  }
};
}  // namespace

TEST_CASE("listen_unix sets the mode and replaces only stale sockets", "[ipc][socket]") {
  TempDir d;
  std::string p = (d.path() / "s").string();
  {
    auto l = listen_unix(p, 0620);
    REQUIRE(l);
    struct stat st;
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0620);
    auto again = listen_unix(p, 0600);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == Errc::busy);
  }
  CHECK(listen_unix(p, 0600));  // the old listener is gone: stale, replaced
  std::string file = (d.path() / "f").string();
  REQUIRE(std::system(("touch " + file).c_str()) == 0);
  CHECK(listen_unix(file, 0600).error().code == Errc::exists);
  CHECK(connect_unix((d.path() / "none").string()).error().code == Errc::not_found);
  CHECK(connect_unix(std::string(200, 'x')).error().code == Errc::invalid);
}

TEST_CASE("a client and a server exchange requests matched by id", "[ipc][server]") {
  Fixture fx;
  auto c = Client::connect(fx.base, fx.path, ClientOptions{kProto});
  REQUIRE(c);
  std::vector<std::string> got;
  for (std::string t : {std::string("one"), std::string("two"), std::string("th\0ree", 6)})
    (*c)->request(Echo{t}, 5s, [&, t](Result<EchoReply> r) {
      REQUIRE(r);
      CHECK(r->text == t);
      got.push_back(r->text);
    });
  run_until(fx.base, [&] { return got.size() == 3; });
  CHECK(got.size() == 3);
  CHECK(fx.served == 3);
  CHECK((*c)->pending() == 0);
}

TEST_CASE("a request the server does not answer times out", "[ipc][server]") {
  Fixture fx;
  auto c = Client::connect(fx.base, fx.path, ClientOptions{kProto});
  REQUIRE(c);
  std::optional<Error> err;
  (*c)->request(Silent{}, 30ms, [&](Result<EchoReply> r) {
    REQUIRE_FALSE(r);
    err = r.error();
  });
  run_until(fx.base, [&] { return err.has_value(); });
  REQUIRE(err);
  CHECK(err->code == Errc::timeout);
  // The late answer is dropped; the connection still serves.
  fx.held.back().reply(EchoReply{"late", 0});
  bool ok = false;
  (*c)->request(Echo{"after"}, 5s, [&](Result<EchoReply> r) { ok = r && r->text == "after"; });
  run_until(fx.base, [&] { return ok; });
  CHECK(ok);
}

TEST_CASE("a dropped replier and an unknown request get error replies", "[ipc][server]") {
  Fixture fx;
  fx.server.handle<Silent>([](Silent, Replier) {});  // forgets to answer
  auto c = Client::connect(fx.base, fx.path, ClientOptions{kProto});
  REQUIRE(c);
  std::optional<Error> e1;
  (*c)->request(Silent{}, 5s, [&](Result<EchoReply> r) { e1 = r.error(); });
  run_until(fx.base, [&] { return e1.has_value(); });
  CHECK(e1->code == Errc::unsupported);
  std::optional<Error> e2;
  (*c)->request(Unknown{}, 5s, [&](Result<EchoReply> r) { e2 = r.error(); });
  run_until(fx.base, [&] { return e2.has_value(); });
  CHECK(e2->code == Errc::unsupported);
}

TEST_CASE("a client speaking another protocol is refused with a clear error", "[ipc][server]") {
  Fixture fx;
  auto c = Client::connect(fx.base, fx.path, ClientOptions{{"echo", 2}});
  REQUIRE(c);
  std::optional<Error> closed, reply;
  (*c)->on_close([&](const Error& e) { closed = e; });
  (*c)->request(Echo{"x"}, 5s, [&](Result<EchoReply> r) { reply = r.error(); });
  run_until(fx.base, [&] { return closed.has_value() && reply.has_value(); });
  REQUIRE(closed);
  CHECK(closed->code == Errc::protocol);
  CHECK(closed->detail.find("version") != std::string::npos);
  CHECK(reply->code == Errc::protocol);
}

TEST_CASE("a client sending garbage is cut off and others are still served", "[ipc][server]") {
  const std::vector<std::string> garbage = {
      std::string("\xff\xff\xff\xff", 4),                  // 2^32-1 length
      std::string("\0\0\0\3abc", 7),                       // shorter than any frame
      "GET / HTTP/1.0\r\n\r\n",                             // another protocol
      serialize(hello_frame(kProto)) + std::string("\0\0\0\x0c\x07", 5) + std::string(11, 'x'),
  };
  for (const std::string& g : garbage) {
    Fixture fx;
    auto bad = connect_unix(fx.path);
    REQUIRE(bad);
    REQUIRE(::send(bad->get(), g.data(), g.size(), 0) == static_cast<ssize_t>(g.size()));
    auto good = Client::connect(fx.base, fx.path, ClientOptions{kProto});
    REQUIRE(good);
    bool ok = false;
    (*good)->request(Echo{"hi"}, 5s, [&](Result<EchoReply> r) { ok = r.has_value(); });
    run_until(fx.base, [&] { return ok && fx.server.connections() == 1; });
    CHECK(ok);
    CHECK(fx.server.connections() == 1);  // the garbage connection is gone
    char ch;
    ::shutdown(bad->get(), SHUT_WR);
    ssize_t n;
    while ((n = ::recv(bad->get(), &ch, 1, 0)) > 0) {}  // our hello, then EOF
    CHECK(n == 0);
  }
}

TEST_CASE("a frame over the server's limit closes only that connection", "[ipc][server]") {
  Fixture fx;
  auto c = Client::connect(fx.base, fx.path, ClientOptions{kProto});
  REQUIRE(c);
  std::optional<Error> err;
  (*c)->request(Echo{std::string(kDefaultMaxFrame + 1, 'x')}, 5s,
                [&](Result<EchoReply> r) { err = r.error(); });
  run_until(fx.base, [&] { return err.has_value(); });
  // The server closes with our unread bytes in its buffer: we see EOF or a
  // reset (EPIPE/ECONNRESET), depending on when our writes hit it.
  CHECK((err->code == Errc::closed || err->code == Errc::io));
  CHECK_FALSE((*c)->open());
}

TEST_CASE("the blocking call talks to an event-driven server", "[ipc][blocking]") {
  Fixture fx;
  std::atomic<bool> done{false};
  Result<EchoReply> got = Error{Errc::invalid, "not run"};
  Result<EchoReply> silent = Error{Errc::invalid, "not run"};
  Result<EchoReply> wrong = Error{Errc::invalid, "not run"};
  std::thread t([&] {
    got = call(fx.path, kProto, Echo{"sync"}, 5s);
    auto bc = BlockingClient::connect(fx.path, kProto, 5s);
    if (bc) silent = bc->call(Silent{}, 30ms);
    wrong = call(fx.path, {"other", 1}, Echo{"x"}, 5s);
    done = true;
  });
  run_until(fx.base, [&] { return done.load(); });
  t.join();
  REQUIRE(got);
  CHECK(got->text == "sync");
  REQUIRE_FALSE(silent);
  CHECK(silent.error().code == Errc::timeout);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == Errc::protocol);
}

TEST_CASE("a server without a socket serves adopted connections and reports each close",
          "[ipc][server]") {
  event::EventBase base;
  Server server(base, ServerOptions{kProto});
  server.handle<Echo>([](Echo e, Replier r) { r.reply(EchoReply{e.text, 1}); });
  int closed = 0;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  server.adopt(Fd(sv[0]), [&] { ++closed; });
  CHECK(server.connections() == 1);
  {
    auto c = std::make_unique<Client>(base, Fd(sv[1]), ClientOptions{kProto});
    bool answered = false;
    c->request(Echo{"hi"}, 5s, [&](Result<EchoReply> r) {
      REQUIRE(r);
      CHECK(r->text == "hi");
      answered = true;
    });
    run_until(base, [&] { return answered; });
    CHECK(closed == 0);  // served, still open
  }
  run_until(base, [&] { return closed == 1; });
  CHECK(closed == 1);
  CHECK(server.connections() == 0);
}

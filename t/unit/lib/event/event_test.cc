#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "lib/event/connection.h"
#include "lib/event/event_base.h"
#include "lib/event/listener.h"
#include "lib/event/signal.h"
#include "lib/event/timer.h"

using namespace posthorn;
using namespace posthorn::event;
using namespace std::chrono_literals;

namespace {
struct Pair {
  Fd a, b;
  Pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    a.reset(sv[0]);
    b.reset(sv[1]);
  }
};

// Runs the loop until `done` or a generous safety deadline (a hang fails the
// test instead of blocking the run; nothing asserts on elapsed time).
template <class F>
void run_until(EventBase& base, F done) {
  Timer guard(base, [&] { base.break_loop(); });
  guard.start(10s);
  while (!done() && guard.pending()) REQUIRE(base.run_once());
}
}  // namespace

TEST_CASE("one-shot and periodic timers fire; a cancelled one does not", "[event]") {
  EventBase base;
  int once = 0, periodic = 0, cancelled = 0;
  Timer t1(base, [&] { ++once; });
  Timer t3(base, [&] { ++cancelled; });
  Timer t2(base, [&] { ++periodic; });
  t1.start(1ms);
  t2.start_periodic(1ms);
  t3.start(1ms);
  t3.cancel();
  run_until(base, [&] { return periodic >= 3 && once == 1; });
  t2.cancel();
  CHECK(once == 1);
  CHECK(periodic >= 3);
  CHECK(cancelled == 0);
  CHECK_FALSE(t1.pending());
}

TEST_CASE("a timer may be destroyed by its own callback", "[event]") {
  EventBase base;
  bool fired = false;
  std::unique_ptr<Timer> t;
  t = std::make_unique<Timer>(base, [&] { fired = true; t.reset(); });
  t->start(0ms);
  run_until(base, [&] { return fired; });
  CHECK(t == nullptr);
}

TEST_CASE("an exception in a callback is contained", "[event]") {
  EventBase base;
  int after = 0;
  Timer bad(base, [] { throw std::runtime_error("boom"); });
  Timer good(base, [&] { ++after; });
  bad.start(0ms);
  good.start(1ms);
  run_until(base, [&] { return after == 1; });
  CHECK(after == 1);
}

TEST_CASE("a signal arrives as a callback", "[event]") {
  EventBase base;
  int got = 0;
  Signal s(base, SIGUSR1, [&] { ++got; });
  Timer t(base, [] { ::raise(SIGUSR1); });
  t.start(0ms);
  run_until(base, [&] { return got > 0; });
  CHECK(got == 1);
}

TEST_CASE("lines split at any point arrive whole", "[event][lines]") {
  const std::string wire = "EHLO a.example\r\nMAIL FROM:<x@y>\r\nbare\nDATA\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    EventBase base;
    Pair p;
    auto c = Connection::plain(base, std::move(p.a));
    std::vector<std::string> lines;
    c->on_read([&] {
      while (auto l = c->read_line()) {
        if (!*l) break;
        lines.push_back(**l);
      }
    });
    Timer second(base, [&] { REQUIRE(::write(p.b.get(), wire.data() + cut, wire.size() - cut) >= 0); });
    REQUIRE(::write(p.b.get(), wire.data(), cut) == static_cast<ssize_t>(cut));
    second.start(1ms);
    run_until(base, [&] { return lines.size() == 4; });
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "EHLO a.example\r\n");
    CHECK(lines[2] == "bare\n");
    CHECK(lines[3] == "DATA\r\n");
  }
}

TEST_CASE("an over-long line is an error, a line of exactly the limit is not", "[event][lines]") {
  for (auto [len, ok] : {std::pair{10u, true}, {11u, false}, {5000u, false}}) {
    INFO(len);
    EventBase base;
    Pair p;
    ConnectionOptions o;
    o.max_line = 10;
    o.max_input = 16;
    auto c = Connection::plain(base, std::move(p.a), o);
    std::optional<Result<std::optional<std::string>>> got;
    c->on_read([&] {
      auto l = c->read_line();
      if (!l || *l) got = l;
    });
    std::string line(len - 1, 'x');
    line += '\n';
    REQUIRE(::send(p.b.get(), line.data(), line.size(), MSG_DONTWAIT) > 0);
    run_until(base, [&] { return got.has_value(); });
    REQUIRE(got);
    CHECK(got->has_value() == ok);
    if (!ok) CHECK(got->error().code == Errc::too_large);
    CHECK(c->input_size() <= 16);  // the read watermark bounds the buffer
  }
}

TEST_CASE("the idle timeout closes a silent connection", "[event]") {
  EventBase base;
  Pair p;
  ConnectionOptions o;
  o.idle_timeout = 20ms;
  auto c = Connection::plain(base, std::move(p.a), o);
  std::optional<Error> closed;
  c->on_close([&](const Error& e) { closed = e; });
  run_until(base, [&] { return closed.has_value(); });
  REQUIRE(closed);
  CHECK(closed->code == Errc::timeout);
}

TEST_CASE("peer close is reported once, and close_after_flush sends first", "[event]") {
  EventBase base;
  Pair p;
  auto c = Connection::plain(base, std::move(p.a));
  int closes = 0;
  Errc code = Errc::io;
  c->on_close([&](const Error& e) { ++closes; code = e.code; });
  c->write("221 bye\r\n");
  c->close_after_flush();
  run_until(base, [&] { return closes > 0; });
  CHECK(closes == 1);
  CHECK(code == Errc::closed);
  char buf[32];
  CHECK(::read(p.b.get(), buf, sizeof buf) == 9);
}

TEST_CASE("output above the high watermark pauses reading until it drains", "[event][watermark]") {
  EventBase base;
  Pair p;
  int sz = 4096;  // small kernel buffers so the output backs up quickly
  ::setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  ::setsockopt(p.b.get(), SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  ConnectionOptions o;
  o.output_high = 64 * 1024;
  o.output_low = 1024;
  auto c = Connection::plain(base, std::move(p.a), o);
  std::string got;
  c->on_read([&] { got += c->read(c->input_size()); });
  c->write(std::string(512 * 1024, 'r'));
  CHECK_FALSE(c->reading());
  REQUIRE(::send(p.b.get(), "ping", 4, MSG_DONTWAIT) == 4);
  for (int i = 0; i < 20; ++i) REQUIRE(base.run_once(true));
  CHECK(got.empty());  // the peer is not read from while it does not read
  std::size_t drained = 0;
  std::string buf(65536, '\0');
  run_until(base, [&] {
    ssize_t n = ::recv(p.b.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) drained += static_cast<std::size_t>(n);
    return got == "ping";
  });
  CHECK(got == "ping");
  CHECK(c->reading());
  CHECK(drained > 0);
}

TEST_CASE("pause_reading holds buffered input until resume", "[event]") {
  EventBase base;
  Pair p;
  auto c = Connection::plain(base, std::move(p.a));
  std::vector<std::string> lines;
  c->on_read([&] {
    while (c->reading()) {
      auto l = c->read_line();
      if (!l || !*l) break;
      lines.push_back(**l);
      c->pause_reading();  // one command at a time, as smtpd waits for a queue write
    }
  });
  REQUIRE(::write(p.b.get(), "A\nB\n", 4) == 4);
  run_until(base, [&] { return lines.size() == 1; });
  for (int i = 0; i < 5; ++i) REQUIRE(base.run_once(true));
  CHECK(lines.size() == 1);
  c->resume_reading();
  run_until(base, [&] { return lines.size() == 2; });
  CHECK(lines == std::vector<std::string>{"A\n", "B\n"});
}

TEST_CASE("a listener hands over accepted connections", "[event]") {
  EventBase base;
  Fd l(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::string name = "posthorn-test-" + std::to_string(::getpid());
  std::memcpy(a.sun_path + 1, name.data(), name.size());  // abstract namespace: no file
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  REQUIRE(::bind(l.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
  REQUIRE(::listen(l.get(), 8) == 0);
  std::vector<Fd> accepted;
  Listener lis(base, std::move(l), [&](Accepted acc) { accepted.push_back(std::move(acc.fd)); });
  Fd c(::socket(AF_UNIX, SOCK_STREAM, 0));
  REQUIRE(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
  run_until(base, [&] { return accepted.size() == 1; });
  REQUIRE(accepted.size() == 1);
  CHECK(::write(c.get(), "x", 1) == 1);
  char ch = 0;
  CHECK(::read(accepted[0].get(), &ch, 1) == 1);
  CHECK(ch == 'x');
}

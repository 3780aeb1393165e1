// smtpd/qmgr_wakeup.h against a stand-in qmgr: an ipc::Server speaking
// protocol "qmgr" on a socket in a temporary directory.
#include "smtpd/qmgr_wakeup.h"

#include <catch2/catch.hpp>

#include "lib/event/timer.h"
#include "lib/ipc/server.h"
#include "lib/ipc/unix_socket.h"
#include "lib/queue/trigger.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace std::chrono_literals;

namespace {

struct FakeQmgr {
  std::unique_ptr<ipc::Server> server;
  int wakeups = 0;
  FakeQmgr(event::EventBase& base, const std::string& path) {
    auto fd = ipc::listen_unix(path, 0600);
    REQUIRE(fd);
    server = std::make_unique<ipc::Server>(base, std::move(*fd), ipc::ServerOptions{queue::kQmgrProtocol});
    server->handle<queue::Wakeup>([this](queue::Wakeup, ipc::Replier r) {
      CHECK_FALSE(r.wants_reply());  // a notice
      ++wakeups;
    });
  }
};

template <class F>
void run_until(event::EventBase& base, F done) {
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(10s);
  while (!done() && guard.pending()) REQUIRE(base.run_once());
  REQUIRE(done());
}

}  // namespace

TEST_CASE("wakeups of one round are one notice; the connection is kept", "[smtpd][qmgr]") {
  test::TempDir dir("qmgrw");
  const std::string path = (dir / "qmgr").string();
  event::EventBase base;
  FakeQmgr q(base, path);
  smtpd::QmgrWakeup w(base, path, false);
  w.wake();
  w.wake();
  w.wake();
  run_until(base, [&] { return q.wakeups == 1; });
  CHECK(w.sent() == 1);
  w.wake();
  run_until(base, [&] { return q.wakeups == 2; });
  CHECK(w.sent() == 2);
  CHECK(q.server->connections() == 1);  // the connection was reused
}

TEST_CASE("a qmgr that went away is found again; none at all is no error", "[smtpd][qmgr]") {
  test::TempDir dir("qmgrw");
  const std::string path = (dir / "qmgr").string();
  event::EventBase base;
  smtpd::QmgrWakeup w(base, path, true);
  w.wake();  // nobody listens yet: only a debug line
  bool ticked = false;
  event::Timer tick(base, [&] { ticked = true; });
  tick.start(20ms);
  run_until(base, [&] { return ticked; });
  CHECK(w.sent() == 0);
  auto q = std::make_unique<FakeQmgr>(base, path);
  w.wake();
  run_until(base, [&] { return q->wakeups == 1; });
  q.reset();  // qmgr exits (a restart): its connections close
  q = std::make_unique<FakeQmgr>(base, path);
  // Until the close is seen, a notice may go to the old connection and be
  // lost (qmgr scans incoming/ when it starts); later ones reach the new qmgr.
  event::Timer again(base, [&] { w.wake(); });
  again.start(20ms);
  run_until(base, [&] {
    if (q->wakeups == 0 && !again.pending()) again.start(20ms);
    return q->wakeups >= 1;
  });
}

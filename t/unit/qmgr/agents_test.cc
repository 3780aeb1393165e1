// t/unit/qmgr/agents_test.cc - qmgr/agents.h against fake agents on real
// UNIX-domain sockets: a slow agent is waited for, a dead one is seen by the
// end of its connection, a missing one is unreachable.
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <optional>

#include "lib/event/timer.h"
#include "lib/ipc/server.h"
#include "lib/ipc/unix_socket.h"
#include "qmgr/agents.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace std::chrono_literals;

namespace {

struct Rig {
  test::TempDir dir{"agents"};
  queue::Spool spool{dir.path()};
  event::EventBase loop;
  qmgr::AgentPool pool{loop, spool};
  Rig() { std::filesystem::create_directories(spool.dir(queue::QueueName::private_)); }
  std::string socket(const std::string& transport) const {
    return (spool.dir(queue::QueueName::private_) / transport).string();
  }
  template <class F>
  void run_until(F done, std::chrono::seconds limit = 20s) {
    event::Timer guard(loop, [this] { loop.break_loop(); });
    guard.start(limit);
    while (!done() && guard.pending()) REQUIRE(loop.run_once());
  }
};

deliver::Request request() {
  deliver::Request req;
  req.queue_id = "4F2A1B";
  req.queue = "active";
  req.transport = "slow";
  req.sender = "s@example.test";
  deliver::Rcpt r;
  r.index = 0;
  r.address = "r@example.test";
  req.rcpts.push_back(r);
  return req;
}

}  // namespace

TEST_CASE("an agent that answers after the old 60 s limit is waited for", "[qmgr][agents]") {
  Rig rig;
  ipc::Server agent(rig.loop, ipc::listen_unix(rig.socket("slow"), 0600).value(),
                    ipc::ServerOptions{deliver::kProtocol});
  std::optional<ipc::Replier> held;
  agent.handle<deliver::Request>([&](deliver::Request, ipc::Replier r) { held.emplace(std::move(r)); });
  std::optional<qmgr::AgentAnswer> got;
  rig.pool.deliver("slow", request(), [&](qmgr::AgentAnswer a) { got = std::move(a); });
  CHECK_FALSE(got);  // never inside deliver()
  rig.run_until([&] { return held.has_value(); });
  REQUIRE(held);
  // The agent works on: time passes with nothing from qmgr's side.
  event::Timer pause(rig.loop, [] {});
  pause.start(1500ms);
  rig.run_until([&] { return !pause.pending() || got.has_value(); });
  CHECK_FALSE(got);
  CHECK(rig.pool.open() == 1);
  deliver::Reply reply;
  reply.results.push_back({0, "sent", "2.0.0", "delivered to maildir", "local"});
  held->reply(reply);
  rig.run_until([&] { return got.has_value(); });
  REQUIRE(got);
  REQUIRE(got->reply);
  CHECK_FALSE(got->unreachable);
  REQUIRE(got->reply->results.size() == 1);
  CHECK(got->reply->results[0].status == "sent");
  CHECK(rig.pool.open() == 0);
}

TEST_CASE("an agent that dies mid-delivery ends the call at once as a failure", "[qmgr][agents]") {
  Rig rig;
  Fd listener = ipc::listen_unix(rig.socket("slow"), 0600).value();
  std::optional<qmgr::AgentAnswer> got;
  rig.pool.deliver("slow", request(), [&](qmgr::AgentAnswer a) { got = std::move(a); });
  // The agent takes the connection, then its process ends.
  Fd conn(::accept(listener.get(), nullptr, nullptr));
  REQUIRE(conn.get() >= 0);
  conn.reset();
  rig.run_until([&] { return got.has_value(); }, 5s);
  REQUIRE(got);
  CHECK_FALSE(got->unreachable);
  REQUIRE_FALSE(got->reply);
  CHECK(got->reply.error().code != Errc::timeout);
  CHECK(rig.pool.open() == 0);
}

TEST_CASE("a transport without a socket is unreachable, reported from the loop", "[qmgr][agents]") {
  Rig rig;
  std::optional<qmgr::AgentAnswer> got;
  rig.pool.deliver("nosuch", request(), [&](qmgr::AgentAnswer a) { got = std::move(a); });
  CHECK_FALSE(got);
  rig.run_until([&] { return got.has_value(); }, 5s);
  REQUIRE(got);
  CHECK(got->unreachable);
  CHECK(got->reply.error().code == Errc::not_found);
}

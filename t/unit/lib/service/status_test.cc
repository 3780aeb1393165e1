// Tests for lib/service/status.h: the status channel's notices.
#include <catch2/catch.hpp>

#include "lib/ipc/codec.h"
#include "lib/service/status.h"

using namespace posthorn;
using service::State;
using service::StatusNotice;

TEST_CASE("a status notice round-trips through a frame", "[service]") {
  for (State s : {State::idle, State::busy}) {
    StatusNotice n;
    n.pid = 4242;
    n.generation = 7;
    n.state = s;
    auto bytes = ipc::serialize(ipc::encode(n));
    ipc::FrameReader r;
    r.feed(bytes);
    auto f = r.next();
    REQUIRE(f);
    REQUIRE(*f);
    CHECK((*f)->id == 0);  // a notice: nobody waits for an answer
    auto back = ipc::decode<StatusNotice>(**f);
    REQUIRE(back);
    CHECK(back->pid == 4242);
    CHECK(back->generation == 7);
    CHECK(back->state == s);
  }
}

TEST_CASE("malformed status notices are refused", "[service]") {
  auto frame = [](std::vector<ipc::Attr> attrs) {
    return ipc::Frame{ipc::Kind::request, 0, "status", std::move(attrs)};
  };
  const std::vector<std::vector<ipc::Attr>> bad = {
      {{"pid", "1"}, {"generation", "1"}, {"state", "asleep"}},
      {{"pid", "1"}, {"generation", "1"}, {"state", "IDLE"}},
      {{"pid", "1"}, {"generation", "-1"}, {"state", "idle"}},
      {{"pid", "x"}, {"generation", "1"}, {"state", "idle"}},
      {{"generation", "1"}, {"state", "idle"}},
      {{"pid", "1"}, {"pid", "2"}, {"generation", "1"}, {"state", "idle"}},
      {{"pid", "1"}, {"generation", "1"}, {"state", "idle"}, {"extra", "strict"}},
  };
  for (const auto& attrs : bad) CHECK_FALSE(ipc::decode<StatusNotice>(frame(attrs)));
  CHECK_FALSE(ipc::decode<StatusNotice>(ipc::encode(service::WakeupNotice{})));
}

// smtpd/client_limits.h: concurrent sessions and connection rate per client.
#include "smtpd/client_limits.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace posthorn;
using namespace posthorn::smtpd;
using namespace std::chrono_literals;
using V = ClientLimits::Verdict;

namespace {

ClientLimits::Settings limits(std::size_t count, std::size_t rate) {
  ClientLimits::Settings s;
  s.count_limit = count;
  s.rate_limit = rate;
  s.rate_unit = 60s;
  auto ex = parse_networks({"127.0.0.0/8", "[2001:db8::]/32"});
  REQUIRE(ex);
  s.exceptions = std::move(*ex);
  return s;
}

}  // namespace

TEST_CASE("client limits: concurrent sessions per client", "[smtpd][limits]") {
  ClientLimits l(limits(2, 0));
  const auto t = ClientLimits::Clock::now();
  auto a = l.admit("192.0.2.1", t);
  auto b = l.admit("192.0.2.1", t);
  CHECK(a.verdict == V::ok);
  CHECK(b.verdict == V::ok);
  CHECK(l.sessions("192.0.2.1") == 2);
  auto c = l.admit("192.0.2.1", t);
  CHECK(c.verdict == V::too_many);
  CHECK(c.count == 3);
  CHECK(l.admit("192.0.2.2", t).verdict == V::ok);  // another client is not affected
  { ClientLimits::Slot gone = std::move(a.slot); }  // one session ends
  CHECK(l.sessions("192.0.2.1") == 1);
  auto d = l.admit("192.0.2.1", t);
  CHECK(d.verdict == V::ok);
  b = {};  // move-assigning releases too
  CHECK(l.sessions("192.0.2.1") == 1);
}

TEST_CASE("client limits: exceptions are neither limited nor counted", "[smtpd][limits]") {
  ClientLimits l(limits(1, 1));
  std::vector<ClientLimits::Admission> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(l.admit("127.0.0.1"));
    CHECK(held.back().verdict == V::ok);
    held.push_back(l.admit("2001:db8::7"));
    CHECK(held.back().verdict == V::ok);
  }
  CHECK(l.tracked() == 0);
}

TEST_CASE("client limits: connection rate per time unit", "[smtpd][limits]") {
  ClientLimits l(limits(0, 3));
  const auto t0 = ClientLimits::Clock::now();
  for (int i = 0; i < 3; ++i) CHECK(l.admit("192.0.2.1", t0 + std::chrono::seconds(i)).verdict == V::ok);
  auto over = l.admit("192.0.2.1", t0 + 10s);
  CHECK(over.verdict == V::too_fast);
  CHECK(over.count == 4);
  CHECK(l.admit("192.0.2.1", t0 + 59s).verdict == V::too_fast);  // refused ones count too
  CHECK(l.admit("192.0.2.1", t0 + 60s).verdict == V::ok);         // a new time unit
}

TEST_CASE("client limits: no limit configured admits everyone untracked", "[smtpd][limits]") {
  ClientLimits l(limits(0, 0));
  for (int i = 0; i < 100; ++i) CHECK(l.admit("192.0.2.1").verdict == V::ok);
  CHECK(l.tracked() == 0);
}

TEST_CASE("client limits: memory is bounded by recent and connected clients", "[smtpd][limits]") {
  ClientLimits l(limits(5, 10));
  const auto t0 = ClientLimits::Clock::now();
  auto keep = l.admit("198.51.100.1", t0);
  auto addr = [](int i) {
    return "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
           std::to_string(i % 256);
  };
  for (int i = 0; i < 5000; ++i) auto a = l.admit(addr(i), t0);  // each released at once
  CHECK(l.tracked() == 5001);  // their rate windows are still open
  // A time unit later, new clients push the old ones out; the connected
  // client stays.
  for (int i = 5000; i < 11000; ++i) auto a = l.admit(addr(i), t0 + 61s);
  CHECK(l.tracked() <= 6001);
  CHECK(l.sessions("198.51.100.1") == 1);
}

// The event-driven front-end: many lookups on one libevent loop.
#include "lib/dns/async_resolver.h"

#include <event2/event.h>

#include <catch2/catch.hpp>
#include <map>
#include <optional>

#include "lib/base/fd.h"
#include "t/unit/lib/dns/fake_dns_server.h"
#include "t/unit/lib/dns/test_zone.h"

using namespace posthorn;
using namespace posthorn::dns;
using test::FakeDnsServer;
using test::Quirk;

namespace {
using BasePtr = Owned<event_base, event_base_free>;
}  // namespace

TEST_CASE("several lookups run at once on one loop", "[dns][async]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("silent.test", Quirk::silent);
  server.set_quirk("truncated.test", Quirk::truncate);
  BasePtr base(event_base_new());
  AsyncResolver dns(base.get(), server.config());

  struct Ask {
    const char* name;
    RrType type;
    Status want;
  };
  const Ask asks[] = {
      {"example.test", RrType::mx, Status::found}, {"implicit.test", RrType::mx, Status::nodata},
      {"implicit.test", RrType::a, Status::found}, {"implicit.test", RrType::aaaa, Status::found},
      {"null.test", RrType::mx, Status::null_mx},  {"nowhere.test", RrType::a, Status::nxdomain},
      {"silent.test", RrType::a, Status::timeout}, {"truncated.test", RrType::mx, Status::found},
      {"alias.test", RrType::a, Status::found},    {"spf.test", RrType::txt, Status::found},
      {"bad..name", RrType::a, Status::bad_name},
  };
  std::map<std::string, Answer> got;
  int calls = 0;
  std::vector<Lookup> lookups;
  for (const auto& ask : asks) {
    std::string key = std::string(ask.name) + "/" + std::string(type_name(ask.type));
    // No REQUIRE in here: an exception must not unwind through libevent.
    lookups.push_back(dns.query(ask.name, ask.type, [&got, &calls, key](Answer a) {
      ++calls;
      got[key] = std::move(a);
    }));
  }
  CHECK(got.empty());  // never called from within query()
  for (const auto& l : lookups) CHECK(l.pending());
  REQUIRE(event_base_dispatch(base.get()) == 1);  // runs until no event is left
  REQUIRE(got.size() == std::size(asks));
  CHECK(calls == static_cast<int>(std::size(asks)));  // exactly one callback per lookup
  for (const auto& ask : asks) {
    std::string key = std::string(ask.name) + "/" + std::string(type_name(ask.type));
    INFO(key);
    CHECK(got[key].status == ask.want);
  }
  for (const auto& l : lookups) CHECK_FALSE(l.pending());
  CHECK(got["example.test/MX"].mx.size() == 3);
  CHECK(got["alias.test/A"].addresses.at(0).text == "192.0.2.50");
  CHECK(server.tcp_queries() == 1);
}

TEST_CASE("dropping a Lookup cancels it: no callback, no events left", "[dns][async]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("silent.test", Quirk::silent);
  BasePtr base(event_base_new());
  AsyncResolver dns(base.get(), server.config(std::chrono::milliseconds(5000), 1));
  int calls = 0;
  {
    Lookup l = dns.query("silent.test", RrType::a, [&](Answer) { ++calls; });
    CHECK(l.pending());
  }
  Lookup bad = dns.query("bad..name", RrType::a, [&](Answer) { ++calls; });
  bad.cancel();
  CHECK_FALSE(bad.pending());
  // With the timers gone, the loop has nothing to wait for and returns at once
  // (1 = no events), instead of after the 5 s timeout.
  CHECK(event_base_dispatch(base.get()) == 1);
  CHECK(calls == 0);
}

TEST_CASE("a callback may destroy its own Lookup and start another", "[dns][async]") {
  FakeDnsServer server(test::test_zone());
  BasePtr base(event_base_new());
  std::optional<Lookup> first, second;
  std::vector<std::string> order;
  {
    AsyncResolver dns(base.get(), server.config());
    first = dns.query("example.test", RrType::mx, [&](Answer a) {
      order.push_back(a.mx.at(0).exchange);
      first.reset();  // the handle of the lookup now ending
      second = dns.query(a.mx.at(0).exchange, RrType::a,
                         [&](Answer b) { order.push_back(b.addresses.at(0).text); });
    });
    REQUIRE(event_base_dispatch(base.get()) == 1);
  }
  CHECK(order == std::vector<std::string>{"mx1.example.test", "192.0.2.1"});
}

TEST_CASE("a Lookup outlives its resolver", "[dns][async]") {
  FakeDnsServer server(test::test_zone());
  BasePtr base(event_base_new());
  std::optional<Answer> got;
  Lookup l;
  {
    AsyncResolver dns(base.get(), server.config());
    l = dns.query("final.test", RrType::a, [&](Answer a) { got = std::move(a); });
  }
  REQUIRE(event_base_dispatch(base.get()) == 1);
  REQUIRE(got);
  CHECK(got->status == Status::found);
}

#include "smtpd/networks.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::smtpd;

TEST_CASE("mynetworks matches addresses by prefix", "[smtpd]") {
  auto nets = parse_networks({"127.0.0.0/8", "[::1]/128", "192.0.2.128/25", "2001:db8::/32", "198.51.100.7"});
  REQUIRE(nets);
  struct Case {
    const char* addr;
    bool in;
  };
  const Case cases[] = {
      {"127.0.0.1", true},       {"127.255.1.2", true},     {"128.0.0.1", false},
      {"::1", true},             {"::2", false},            {"192.0.2.200", true},
      {"192.0.2.127", false},    {"2001:db8:1::5", true},   {"2001:db9::1", false},
      {"198.51.100.7", true},    {"198.51.100.8", false},   {"::ffff:127.0.0.1", true},
      {"not an address", false}, {"", false},
  };
  for (const Case& c : cases) {
    INFO(c.addr);
    CHECK(in_networks(*nets, c.addr) == c.in);
  }
}

TEST_CASE("mynetworks refuses what it cannot match", "[smtpd]") {
  for (const char* bad : {"example.org", "/etc/posthorn/networks", "hash:/x", "10.0.0.0/33",
                          "[::1]/129", "10.0.0.0/", "10.0.0.0/x", "", "/8"}) {
    INFO(bad);
    CHECK(!parse_networks({bad}));
  }
  auto none = parse_networks({});
  REQUIRE(none);
  CHECK(!in_networks(*none, "127.0.0.1"));
  auto all = parse_networks({"0.0.0.0/0"});
  REQUIRE(all);
  CHECK(in_networks(*all, "203.0.113.9"));
  CHECK(!in_networks(*all, "2001:db8::1"));
}

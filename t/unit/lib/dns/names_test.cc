#include "lib/dns/names.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::dns;

TEST_CASE("normalize_name lower-cases, drops the trailing dot and refuses bad names",
          "[dns][names]") {
  struct Case {
    std::string in;
    bool ok;
    std::string out;
  };
  const std::string label63(63, 'a'), label64(64, 'a');
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  const Case cases[] = {
      {"Example.ORG", true, "example.org"},
      {"example.org.", true, "example.org"},
      {"_25._tcp.mx.example", true, "_25._tcp.mx.example"},
      {".", true, ""},
      {label63 + ".example", true, label63 + ".example"},
      {"", false, ""},
      {"..", false, ""},
      {"a..b", false, ""},
      {".a", false, ""},
      {label64 + ".example", false, ""},
      {long_name + "example.org", false, ""},
      {"a b.example", false, ""},
      {"a\\.b.example", false, ""},
      {std::string("a\0b.example", 11), false, ""},
      {"caf\xc3\xa9.example", false, ""},
      {"tab\t.example", false, ""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = normalize_name(c.in);
    REQUIRE(bool(r) == c.ok);
    if (c.ok) CHECK(*r == c.out);
    if (!c.ok) CHECK(r.error().code == Errc::parse);
  }
}

TEST_CASE("reverse_name builds in-addr.arpa and ip6.arpa names", "[dns][names]") {
  CHECK(*reverse_name("192.0.2.1") == "1.2.0.192.in-addr.arpa");
  CHECK(*reverse_name("10.0.0.255") == "255.0.0.10.in-addr.arpa");
  CHECK(*reverse_name("2001:db8::1") ==
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK(*reverse_name("::ffff:192.0.2.1") ==
        "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
  for (const char* bad : {"", "192.0.2", "192.0.2.256", "host.example", "2001:db8::1::2",
                          " 192.0.2.1", "192.0.2.1/24", "[::1]"}) {
    INFO(bad);
    auto r = reverse_name(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::parse);
  }
}

TEST_CASE("tlsa_name prefixes port and protocol", "[dns][names]") {
  CHECK(*tlsa_name("MX.Example.org.") == "_25._tcp.mx.example.org");
  CHECK(*tlsa_name("mx.example.org", 465) == "_465._tcp.mx.example.org");
  CHECK_FALSE(tlsa_name("bad..name"));
  CHECK(tlsa_name("mx.example", 0).error().code == Errc::invalid);
  CHECK(tlsa_name("mx.example", 65536).error().code == Errc::invalid);
}

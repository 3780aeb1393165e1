#include "lib/dns/config.h"

#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

using namespace posthorn;
using namespace posthorn::dns;

namespace {
unsigned port_of(const NameServer& ns) {
  if (ns.addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in&>(ns.addr).sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6&>(ns.addr).sin6_port);
}
}  // namespace

TEST_CASE("parse_nameserver takes ip, ip:port, [ipv6]:port and bare ipv6", "[dns][config]") {
  struct Case {
    const char* in;
    int family;
    unsigned port;
    const char* text;
  };
  const Case good[] = {
      {"127.0.0.1", AF_INET, 53, "127.0.0.1:53"},
      {"127.0.0.1:5353", AF_INET, 5353, "127.0.0.1:5353"},
      {" 192.0.2.53:53 ", AF_INET, 53, "192.0.2.53:53"},
      {"[::1]:5353", AF_INET6, 5353, "[::1]:5353"},
      {"[2001:db8::53]", AF_INET6, 53, "[2001:db8::53]:53"},
      {"2001:db8::53", AF_INET6, 53, "[2001:db8::53]:53"},
      {"::1", AF_INET6, 53, "[::1]:53"},
  };
  for (const auto& c : good) {
    INFO(c.in);
    auto ns = parse_nameserver(c.in);
    REQUIRE(ns);
    CHECK(ns->addr.ss_family == c.family);
    CHECK(port_of(*ns) == c.port);
    CHECK(ns->text == c.text);
  }
  for (const char* bad : {"", "localhost", "ns.example:53", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", "127.0.0.1:53x", "[::1", "[::1]x", "[127.0.0.1]:53",
                          "[::1]:", "300.1.1.1", "127.0.0.1:-1", "1.2.3.4:5:6"}) {
    INFO(bad);
    auto ns = parse_nameserver(bad);
    REQUIRE_FALSE(ns);
    CHECK(ns.error().code == Errc::parse);
  }
}

TEST_CASE("config_from_list reads dns_nameservers", "[dns][config]") {
  auto cfg = config_from_list("127.0.0.1:5353, [::1]:5354\t192.0.2.1");
  REQUIRE(cfg);
  REQUIRE(cfg->servers.size() == 3);
  CHECK(cfg->servers[0].text == "127.0.0.1:5353");
  CHECK(cfg->servers[1].text == "[::1]:5354");
  CHECK(cfg->servers[2].text == "192.0.2.1:53");
  CHECK(config_from_list("  , ").error().code == Errc::invalid);
  auto bad = config_from_list("127.0.0.1, ns.example");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::parse);
  CHECK(bad.error().detail.find("ns.example") != std::string::npos);
}

TEST_CASE("resolv.conf: nameservers, timeout and attempts; search is not used", "[dns][config]") {
  const char* text =
      "# comment\n"
      "; another comment\n"
      "search example.org corp.example\n"
      "domain example.org\n"
      "nameserver 192.0.2.53   # trailing comment\n"
      "nameserver\t2001:db8::53\n"
      "options ndots:5 timeout:3 attempts:4 rotate edns0\n";
  ResolvConf rc = parse_resolv_conf(text);
  CHECK(rc.warnings.empty());
  REQUIRE(rc.config.servers.size() == 2);
  CHECK(rc.config.servers[0].text == "192.0.2.53:53");
  CHECK(rc.config.servers[1].text == "[2001:db8::53]:53");
  CHECK(rc.config.timeout == std::chrono::seconds(3));
  CHECK(rc.config.attempts == 4);
}

TEST_CASE("resolv.conf: malformed lines are skipped with a warning naming the line",
          "[dns][config]") {
  struct Case {
    const char* line;
    std::size_t servers;  // usable servers after the line (besides the default)
    bool warns;
  };
  const Case cases[] = {
      {"nameserver 192.0.2.1", 1, false},
      {"nameserver ns.example", 0, true},
      {"nameserver 192.0.2.1:53", 0, true},  // ports are not resolv.conf syntax
      {"nameserver [::1]", 0, true},
      {"nameserver", 0, true},
      {"nameserver 192.0.2.1 192.0.2.2", 0, true},
      {"nameserver 999.1.1.1", 0, true},
      {"options timeout:x", 0, true},
      {"options attempts:", 0, true},
      {"options timeout", 0, true},
      {"options unknown-option:7", 0, false},
      {"sortlist 130.155.160.0/255.255.240.0", 0, false},
      {"garbage line here", 0, false},
      {"\x01\x02\xff", 0, false},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    ResolvConf rc = parse_resolv_conf(std::string("\n") + c.line + "\n", "test.conf");
    CHECK(rc.warnings.empty() == !c.warns);
    if (c.warns) CHECK(rc.warnings[0].rfind("test.conf:2: ", 0) == 0);
    REQUIRE(rc.config.servers.size() == 1);
    CHECK((rc.config.servers[0].text == "127.0.0.1:53") == (c.servers == 0));
  }
}

TEST_CASE("resolv.conf: limits and defaults follow glibc", "[dns][config]") {
  ResolvConf empty = parse_resolv_conf("");
  REQUIRE(empty.config.servers.size() == 1);
  CHECK(empty.config.servers[0].text == "127.0.0.1:53");
  CHECK(empty.config.timeout == std::chrono::seconds(5));
  CHECK(empty.config.attempts == 2);

  ResolvConf four = parse_resolv_conf(
      "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n"
      "options timeout:0 attempts:99\noptions timeout:100\n");
  CHECK(four.config.servers.size() == 3);
  CHECK(four.warnings.size() == 1);
  CHECK(four.config.attempts == 5);
  CHECK(four.config.timeout == std::chrono::seconds(30));
  CHECK(parse_resolv_conf("options timeout:0").config.timeout == std::chrono::seconds(1));
}

TEST_CASE("load_resolv_conf reads a file and reports a missing one", "[dns][config]") {
  char tmpl[] = "/tmp/posthorn-resolv-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(tmpl) << "nameserver 127.0.0.1\nnameserver ::1\noptions timeout:1\n";
  auto rc = load_resolv_conf(tmpl);
  ::unlink(tmpl);
  REQUIRE(rc);
  CHECK(rc->config.servers.size() == 2);
  CHECK(rc->config.timeout == std::chrono::seconds(1));
  auto missing = load_resolv_conf(tmpl);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
}

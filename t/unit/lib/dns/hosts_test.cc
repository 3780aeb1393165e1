// lib/dns/hosts.h: the hosts file as the C library reads it.
#include <catch2/catch.hpp>

#include "lib/dns/hosts.h"
#include "t/unit/support/temp_dir.h"

#include <fstream>

using namespace posthorn;

TEST_CASE("hosts file: names of addresses and addresses of names", "[dns][hosts]") {
  auto h = dns::HostsFile::parse(
      "# comment\n"
      "127.0.0.1\tlocalhost   # trailing comment\n"
      "127.0.0.1 vm\n"
      "::1 ip6-localhost ip6-loopback\n"
      "192.0.2.7 Mail.Example.ORG mail\r\n"
      "not-an-address foo\n"
      "198.51.100.1\n"
      "   \n");
  CHECK(h.name_of("127.0.0.1") == "localhost");  // the first line wins
  CHECK(h.name_of("0:0:0:0:0:0:0:1") == "ip6-localhost");
  CHECK(h.name_of("192.0.2.7") == "mail.example.org");
  CHECK_FALSE(h.name_of("198.51.100.1"));
  CHECK_FALSE(h.name_of("192.0.2.8"));
  CHECK_FALSE(h.name_of("junk"));
  CHECK(h.has("vm", "127.0.0.1"));
  CHECK(h.has("MAIL", "192.0.2.7"));
  CHECK(h.has("ip6-loopback", "::1"));
  CHECK_FALSE(h.has("mail", "192.0.2.8"));
  CHECK_FALSE(h.has("foo", "127.0.0.1"));
  CHECK_FALSE(h.empty());
}

TEST_CASE("hosts file: a missing file is an empty table", "[dns][hosts]") {
  test::TempDir dir{"hosts"};
  CHECK(dns::HostsFile::load(dir.path() / "none").empty());
  std::ofstream(dir.path() / "hosts") << "10.1.2.3 gw.test gw\n";
  auto h = dns::HostsFile::load(dir.path() / "hosts");
  CHECK(h.name_of("10.1.2.3") == "gw.test");
}

// The blocking front-end against a fake DNS server on 127.0.0.1.
#include "lib/dns/resolver.h"

#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <set>

#include "lib/dns/names.h"
#include "t/unit/lib/dns/fake_dns_server.h"
#include "t/unit/lib/dns/test_zone.h"

using namespace posthorn;
using namespace posthorn::dns;
using test::FakeDnsServer;
using test::Quirk;

namespace {
std::vector<std::string> texts_of(const std::vector<Address>& as) {
  std::vector<std::string> out;
  for (const auto& a : as) out.push_back(a.text);
  return out;
}
}  // namespace

TEST_CASE("MX records arrive in preference order, equal preferences kept", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  Resolver dns(server.config());
  Answer a = dns.query("Example.TEST.", RrType::mx);
  REQUIRE(a.status == Status::found);
  CHECK(a.name == "example.test");
  CHECK(a.server == server.address());
  REQUIRE(a.mx.size() == 3);
  CHECK(a.mx[0].preference == 10);
  CHECK(a.mx[0].exchange == "mx1.example.test");
  CHECK(a.mx[1].preference == 20);
  CHECK(a.mx[2].preference == 20);
  CHECK(std::set<std::string>{a.mx[1].exchange, a.mx[2].exchange} ==
        std::set<std::string>{"mx2.example.test", "mx3.example.test"});
  CHECK(a.ttl == 300);
  CHECK_FALSE(a.authenticated);
}

TEST_CASE("no MX is NODATA; the caller then asks A and AAAA (implicit MX)", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  Resolver dns(server.config());
  Answer mx = dns.query("implicit.test", RrType::mx);
  CHECK(mx.status == Status::nodata);
  CHECK(mx.rcode == 0);
  CHECK_FALSE(is_temporary(mx.status));
  Answer a = dns.query("implicit.test", RrType::a);
  REQUIRE(a.status == Status::found);
  CHECK(texts_of(a.addresses) == std::vector<std::string>{"192.0.2.10", "192.0.2.11"});
  const auto& sin = reinterpret_cast<const sockaddr_in&>(a.addresses[0].sockaddr);
  CHECK(sin.sin_family == AF_INET);
  CHECK(ntohl(sin.sin_addr.s_addr) == 0xc000020a);
  Answer aaaa = dns.query("implicit.test", RrType::aaaa);
  REQUIRE(aaaa.status == Status::found);
  CHECK(texts_of(aaaa.addresses) == std::vector<std::string>{"2001:db8::10"});
  CHECK(aaaa.addresses[0].family() == AF_INET6);
}

TEST_CASE("a null MX is reported as such", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  Resolver dns(server.config());
  Answer a = dns.query("null.test", RrType::mx);
  CHECK(a.status == Status::null_mx);
  CHECK(a.mx.size() == 1);
}

TEST_CASE("NXDOMAIN, NODATA, SERVFAIL, REFUSED and time-out are told apart", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("servfail.test", Quirk::servfail);
  server.set_quirk("refused.test", Quirk::refused);
  server.set_quirk("silent.test", Quirk::silent);
  Resolver dns(server.config(std::chrono::milliseconds(200), 2));

  Answer nx = dns.query("nowhere.test", RrType::mx);
  CHECK(nx.status == Status::nxdomain);
  CHECK(nx.rcode == 3);
  CHECK(dns.query("mx1.example.test", RrType::mx).status == Status::nodata);
  Answer sf = dns.query("servfail.test", RrType::a);
  CHECK(sf.status == Status::server_failure);
  CHECK(sf.rcode == 2);
  CHECK(is_temporary(sf.status));
  Answer rf = dns.query("refused.test", RrType::a);
  CHECK(rf.status == Status::server_failure);
  CHECK(rf.rcode == 5);
  int before = server.udp_queries();
  Answer to = dns.query("silent.test", RrType::a);
  CHECK(to.status == Status::timeout);
  CHECK(is_temporary(to.status));
  CHECK(server.udp_queries() - before == 2);  // one try per attempt
  CHECK(to.detail.find(server.address()) != std::string::npos);
}

TEST_CASE("a truncated UDP reply is asked again over TCP", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("truncated.test", Quirk::truncate);
  server.set_quirk("example.test", Quirk::always_truncate);
  Resolver dns(server.config());
  Answer a = dns.query("truncated.test", RrType::mx);
  REQUIRE(a.status == Status::found);
  CHECK(a.mx.at(0).exchange == "mx1.example.test");
  CHECK(server.udp_queries() == 1);
  CHECK(server.tcp_queries() == 1);
  // TC over TCP as well is the server's fault, not a reason to loop.
  CHECK(dns.query("example.test", RrType::mx).status == Status::malformed);
  CHECK(server.tcp_queries() == 2);
}

TEST_CASE("a TCP reply is read whatever way the stream is split", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("example.test", Quirk::truncate_dribble);
  Resolver dns(server.config(std::chrono::milliseconds(2000)));
  Answer a = dns.query("example.test", RrType::mx);
  REQUIRE(a.status == Status::found);
  CHECK(a.mx.size() == 3);
  CHECK(server.tcp_queries() == 1);
}

TEST_CASE("a reply larger than advertised is still read over UDP", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("big.test", Quirk::oversized);
  Resolver dns(server.config());
  Answer a = dns.query("big.test", RrType::a);
  REQUIRE(a.status == Status::found);
  CHECK(texts_of(a.addresses) == std::vector<std::string>{"192.0.2.101"});
  CHECK(server.tcp_queries() == 0);
}

TEST_CASE("forged replies (wrong id, wrong question, wrong source) are ignored",
          "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("spoof.test", Quirk::spoof_first);
  server.set_quirk("elsewhere.test", Quirk::wrong_source);
  Resolver dns(server.config());
  Answer a = dns.query("spoof.test", RrType::a);
  REQUIRE(a.status == Status::found);
  CHECK(texts_of(a.addresses) == std::vector<std::string>{"192.0.2.99"});
  // The only reply comes from another port: the connected socket never sees it.
  CHECK(dns.query("elsewhere.test", RrType::a).status == Status::timeout);
}

TEST_CASE("a malformed reply is a temporary failure", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("malformed.test", Quirk::malformed);
  Resolver dns(server.config());
  Answer a = dns.query("malformed.test", RrType::mx);
  CHECK(a.status == Status::malformed);
  CHECK(is_temporary(a.status));
  CHECK(dns.query("loop1.test", RrType::a).status == Status::malformed);
}

TEST_CASE("CNAME chains end at the records asked for", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  Resolver dns(server.config());
  Answer a = dns.query("alias.test", RrType::a);
  REQUIRE(a.status == Status::found);
  CHECK(a.canonical == "final.test");
  CHECK(texts_of(a.addresses) == std::vector<std::string>{"192.0.2.50"});
  CHECK(a.ttl == 120);
  Answer mx = dns.query("alias.test", RrType::mx);
  REQUIRE(mx.status == Status::found);
  CHECK(mx.mx.at(0).exchange == "mx1.example.test");
  CHECK(dns.query("alias.test", RrType::txt).status == Status::nodata);
}

TEST_CASE("TXT, PTR and TLSA answers", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  Resolver dns(server.config());
  Answer txt = dns.query("spf.test", RrType::txt);
  REQUIRE(txt.status == Status::found);
  CHECK(txt.texts == std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24 -all", "unrelated text"});

  Answer ptr4 = dns.query(*reverse_name("192.0.2.1"), RrType::ptr);
  REQUIRE(ptr4.status == Status::found);
  CHECK(ptr4.names == std::vector<std::string>{"mx1.example.test"});
  Answer ptr6 = dns.query(*reverse_name("2001:db8::1"), RrType::ptr);
  REQUIRE(ptr6.status == Status::found);
  CHECK(ptr6.names == std::vector<std::string>{"mx1.example.test"});
  CHECK(dns.query(*reverse_name("192.0.2.2"), RrType::ptr).status == Status::nxdomain);

  Answer tlsa = dns.query(*tlsa_name("mx1.example.test"), RrType::tlsa);
  REQUIRE(tlsa.status == Status::found);
  REQUIRE(tlsa.tlsa.size() == 2);
  CHECK(tlsa.tlsa[0].usage == 3);
  CHECK(tlsa.tlsa[0].selector == 1);
  CHECK(tlsa.tlsa[0].matching_type == 1);
  CHECK(tlsa.tlsa[0].data.size() == 32);
  CHECK(static_cast<unsigned char>(tlsa.tlsa[0].data[0]) == 0x8c);
  CHECK(tlsa.tlsa[1].usage == 2);
  CHECK(tlsa.tlsa[1].data == std::string("\x00\xff", 2));
}

TEST_CASE("queries carry the DO bit and the AD bit of the reply is reported", "[dns][resolver]") {
  FakeDnsServer server(test::test_zone());
  server.set_quirk("signed.test", Quirk::authenticated);
  Resolver dns(server.config());
  Answer a = dns.query("signed.test", RrType::a);
  REQUIRE(a.status == Status::found);
  CHECK(a.authenticated);
  CHECK(server.last_query_had_do());
  CHECK(server.last_query_edns_size() == 1232);
  CHECK_FALSE(dns.query("mx1.example.test", RrType::a).authenticated);
}

TEST_CASE("tries move on to the next server", "[dns][resolver]") {
  FakeDnsServer bad(test::test_zone()), good(test::test_zone());
  bad.set_quirk("example.test", Quirk::silent);
  bad.set_quirk("servfail.test", Quirk::servfail);
  Config cfg = *config_from_list(bad.address() + " " + good.address());
  cfg.timeout = std::chrono::milliseconds(200);
  cfg.attempts = 1;
  Resolver dns(cfg);
  Answer a = dns.query("example.test", RrType::mx);
  REQUIRE(a.status == Status::found);
  CHECK(a.server == good.address());
  CHECK(bad.udp_queries() == 1);
  // SERVFAIL from the first server: the second still answers.
  Answer b = dns.query("servfail.test", RrType::a);
  CHECK(b.status == Status::found);
  CHECK(b.server == good.address());
  // A server that said something beats one that stayed silent.
  good.set_quirk("silent.test", Quirk::silent);
  bad.set_quirk("silent.test", Quirk::servfail);
  CHECK(dns.query("silent.test", RrType::a).status == Status::server_failure);
}

TEST_CASE("local failures: no server listening, bad names, no servers", "[dns][resolver]") {
  unsigned port = 0;
  {
    FakeDnsServer gone(test::test_zone());  // a port that was ours and is closed now
    port = gone.port();
  }
  auto cfg = config_from_list("127.0.0.1:" + std::to_string(port));
  cfg->timeout = std::chrono::milliseconds(200);
  cfg->attempts = 1;
  Resolver dns(*cfg);
  Answer refused = dns.query("example.test", RrType::mx);
  CHECK((refused.status == Status::local_error || refused.status == Status::timeout));
  CHECK(is_temporary(refused.status));
  Answer bad = dns.query("bad..name", RrType::mx);
  CHECK(bad.status == Status::bad_name);
  CHECK_FALSE(is_temporary(bad.status));
  Resolver none(Config{});
  CHECK(none.query("example.test", RrType::a).status == Status::local_error);
}

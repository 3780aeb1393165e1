// Next-hop planning: MX order with shuffled equal preferences, implicit MX,
// null MX, loops, [host], DNS failures, address families and limits.
#include "smtp/route.h"
#include "smtp/settings.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace posthorn;
using namespace posthorn::smtp;

namespace {

// A zone: MX records by name, addresses by name; anything else is the
// configured status (default NXDOMAIN).
struct FakeDns {
  std::map<std::string, std::vector<dns::MxRecord>> mx;
  std::map<std::string, std::vector<std::string>> a, aaaa;
  std::map<std::pair<std::string, dns::RrType>, dns::Status> status;
  std::vector<std::pair<std::string, dns::RrType>> asked;

  dns::Answer operator()(std::string_view name, dns::RrType t) {
    asked.emplace_back(std::string(name), t);
    dns::Answer ans;
    ans.name = std::string(name);
    ans.type = t;
    if (auto s = status.find({ans.name, t}); s != status.end()) {
      ans.status = s->second;
      return ans;
    }
    const bool known = mx.count(ans.name) || a.count(ans.name) || aaaa.count(ans.name);
    ans.status = known ? dns::Status::nodata : dns::Status::nxdomain;
    if (t == dns::RrType::mx && mx.count(ans.name)) {
      ans.mx = mx[ans.name];
      if (ans.mx.size() == 1 && ans.mx[0].exchange.empty()) {
        ans.status = dns::Status::null_mx;
        return ans;
      }
      ans.status = dns::Status::found;
    }
    auto& table = t == dns::RrType::a ? a : aaaa;
    if (t != dns::RrType::mx && table.count(ans.name)) {
      for (const std::string& ip : table[ans.name]) ans.addresses.push_back(*literal_address(ip));
      ans.status = dns::Status::found;
    }
    return ans;
  }
};

resolve::NextHop hop(std::string host, bool mx = true) { return {std::move(host), "", mx}; }

std::vector<std::string> names(const Route& r) {
  std::vector<std::string> out;
  for (const Host& h : r.hosts) out.push_back(h.name);
  return out;
}

Route plan(FakeDns& d, const resolve::NextHop& h, RouteSettings s = {}, unsigned seed = 1) {
  std::mt19937 rng(seed);
  if (s.myhostname.empty()) s.myhostname = "me.example";
  return plan_route(h, s, [&d](std::string_view n, dns::RrType t) { return d(n, t); }, rng);
}

}  // namespace

TEST_CASE("MX order: preference first, equal preferences shuffled", "[smtp][route]") {
  std::set<std::vector<std::string>> orders;
  for (unsigned seed = 0; seed < 64; ++seed) {
    std::vector<dns::MxRecord> mx = {{20, "c"}, {10, "a"}, {10, "b"}, {30, "d"}, {10, "e"}};
    std::mt19937 rng(seed);
    order_mx(mx, rng);
    std::vector<std::string> got;
    for (auto& m : mx) got.push_back(m.exchange);
    CHECK(std::set<std::string>(got.begin(), got.begin() + 3) == std::set<std::string>{"a", "b", "e"});
    CHECK(got[3] == "c");
    CHECK(got[4] == "d");
    orders.insert(got);
  }
  CHECK(orders.size() > 1);  // the equal ones do move
}

TEST_CASE("MX hosts with their addresses, in order", "[smtp][route]") {
  FakeDns d;
  d.mx["example.test"] = {{20, "mx2.example.test"}, {10, "mx1.example.test"}};
  d.a["mx1.example.test"] = {"192.0.2.1"};
  d.a["mx2.example.test"] = {"192.0.2.2", "192.0.2.3"};
  d.aaaa["mx2.example.test"] = {"2001:db8::2"};
  Route r = plan(d, hop("example.test"));
  REQUIRE_FALSE(r.failure);
  CHECK(names(r) == std::vector<std::string>{"mx1.example.test", "mx2.example.test"});
  REQUIRE(r.hosts[1].addresses.size() == 3);
  CHECK(r.hosts[1].addresses[0].text == "2001:db8::2");  // "any": IPv6 first

  RouteSettings v4;
  v4.ipv6 = false;
  d.asked.clear();
  Route r4 = plan(d, hop("example.test"), v4);
  CHECK(r4.hosts[1].addresses.size() == 2);
  for (auto& [name, type] : d.asked) CHECK(type != dns::RrType::aaaa);

  RouteSettings pref4;
  pref4.preference = AddressPreference::ipv4;
  CHECK(plan(d, hop("example.test"), pref4).hosts[1].addresses[0].text == "192.0.2.2");

  RouteSettings limit;
  limit.address_limit = 2;
  Route rl = plan(d, hop("example.test"), limit);
  REQUIRE(rl.hosts.size() == 2);
  CHECK(rl.hosts[1].addresses.size() == 1);
}

TEST_CASE("implicit MX, null MX, missing domain, server failure", "[smtp][route]") {
  FakeDns d;
  d.a["plain.test"] = {"192.0.2.9"};
  Route r = plan(d, hop("plain.test"));
  REQUIRE(r.hosts.size() == 1);
  CHECK(r.hosts[0].name == "plain.test");

  d.mx["nullmx.test"] = {{0, ""}};
  Route n = plan(d, hop("nullmx.test"));
  REQUIRE(n.failure);
  CHECK(n.failure->dsn == "5.1.10");
  CHECK(n.failure->text == "Domain nullmx.test does not accept mail (nullMX)");

  Route nx = plan(d, hop("nowhere.test"));
  REQUIRE(nx.failure);
  CHECK(nx.failure->dsn == "5.4.4");
  CHECK(nx.failure->text.find("name=nowhere.test type=MX: Host not found") != std::string::npos);

  d.status[{"flaky.test", dns::RrType::mx}] = dns::Status::server_failure;
  Route sf = plan(d, hop("flaky.test"));
  REQUIRE(sf.failure);
  CHECK(sf.failure->dsn == "4.4.3");

  // An MX host without an address while another has one: skipped.
  d.mx["half.test"] = {{10, "gone.test"}, {20, "mx.half.test"}};
  d.a["mx.half.test"] = {"192.0.2.5"};
  CHECK(names(plan(d, hop("half.test"))) == std::vector<std::string>{"mx.half.test"});
  // Only a temporary failure among them: temporary.
  d.mx["tmp.test"] = {{10, "slow.test"}};
  d.status[{"slow.test", dns::RrType::a}] = dns::Status::timeout;
  d.status[{"slow.test", dns::RrType::aaaa}] = dns::Status::timeout;
  Route t = plan(d, hop("tmp.test"));
  REQUIRE(t.failure);
  CHECK(t.failure->dsn == "4.4.3");
}

TEST_CASE("[host] and address literals skip the MX lookup", "[smtp][route]") {
  FakeDns d;
  d.mx["relay.test"] = {{10, "elsewhere.test"}};
  d.a["relay.test"] = {"192.0.2.7"};
  Route r = plan(d, hop("relay.test", false));
  REQUIRE(r.hosts.size() == 1);
  CHECK(r.hosts[0].name == "relay.test");
  for (auto& [name, type] : d.asked) CHECK(type != dns::RrType::mx);

  d.asked.clear();
  Route lit = plan(d, hop("192.0.2.44", false));
  REQUIRE(lit.hosts.size() == 1);
  CHECK(lit.hosts[0].addresses[0].text == "192.0.2.44");
  CHECK(d.asked.empty());
  Route lit6 = plan(d, hop("ipv6:2001:db8::5", false));
  REQUIRE(lit6.hosts.size() == 1);
  CHECK(lit6.hosts[0].addresses[0].family() == AF_INET6);
}

TEST_CASE("an MX pointing at this host is a loop", "[smtp][route]") {
  FakeDns d;
  d.mx["loop.test"] = {{10, "me.example"}};
  d.a["me.example"] = {"192.0.2.1"};
  Route r = plan(d, hop("loop.test"));
  REQUIRE(r.failure);
  CHECK(r.failure->dsn == "5.4.6");
  CHECK(r.failure->text == "mail for loop.test loops back to myself");

  // We are a backup MX: only the better ones remain.
  d.mx["backup.test"] = {{10, "primary.test"}, {20, "ME.example"}, {30, "worse.test"}};
  d.a["primary.test"] = {"192.0.2.2"};
  d.a["worse.test"] = {"192.0.2.3"};
  CHECK(names(plan(d, hop("backup.test"))) == std::vector<std::string>{"primary.test"});
}

TEST_CASE("smtp_tls_policy_maps values and keys", "[smtp][tls]") {
  auto p = parse_tls_policy("secure match=mx.example:.example.net");
  REQUIRE(p);
  CHECK(p->level == tls::SecurityLevel::secure);
  CHECK(p->match == std::vector<std::string>{"mx.example", ".example.net"});
  auto e = parse_tls_policy("encrypt protocols=>=TLSv1.2");
  REQUIRE(e);
  CHECK(e->level == tls::SecurityLevel::encrypt);
  CHECK(e->match.empty());
  CHECK_FALSE(parse_tls_policy("dane"));
  CHECK_FALSE(parse_tls_policy(""));
  CHECK(tls_policy_keys("example.org", "example.org") ==
        std::vector<std::string>{"example.org", ".org"});
  CHECK(tls_policy_keys("[Relay.Example.org]:587", "relay.example.org") ==
        std::vector<std::string>{"[relay.example.org]:587", "relay.example.org", ".example.org", ".org"});
}

TEST_CASE("MX hosts without addresses bounce, or defer when configured", "[smtp][route]") {
  FakeDns d;
  d.mx["noaddr.test"] = {{10, "gone1.test"}, {20, "gone2.test"}};
  Route r = plan(d, hop("noaddr.test"));
  REQUIRE(r.failure);
  CHECK(r.failure->dsn == "5.4.4");
  RouteSettings defer;
  defer.defer_if_no_mx_address = true;
  Route rd = plan(d, hop("noaddr.test"), defer);
  REQUIRE(rd.failure);
  CHECK(rd.failure->dsn == "4.4.4");
  CHECK(rd.failure->text == r.failure->text);
  // Not for a domain without MX records (implicit MX) nor a missing domain.
  CHECK(plan(d, hop("nowhere.test"), defer).failure->dsn == "5.4.4");
  d.status[{"plain.test", dns::RrType::mx}] = dns::Status::nodata;
  CHECK(plan(d, hop("plain.test"), defer).failure->dsn == "5.4.4");
}

TEST_CASE("smtp_host_lookup: dns, native, or DNS then native", "[smtp][route]") {
  FakeDns d, native;
  d.mx["example.test"] = {{10, "mx1.example.test"}, {20, "mx2.example.test"}};
  d.a["mx1.example.test"] = {"192.0.2.1"};
  native.a["mx1.example.test"] = {"198.51.100.1"};
  native.a["mx2.example.test"] = {"198.51.100.2"};
  auto run = [&](RouteSettings s, const resolve::NextHop& h) {
    std::mt19937 rng(1);
    s.myhostname = "me.example";
    s.ipv6 = false;
    return plan_route(h, s, [&d](std::string_view n, dns::RrType t) { return d(n, t); }, rng,
                      [&native](std::string_view n, dns::RrType t) { return native(n, t); });
  };
  auto addrs = [](const Route& r) {
    std::vector<std::string> out;
    for (const Host& h : r.hosts)
      for (const dns::Address& a : h.addresses) out.push_back(a.text);
    return out;
  };
  RouteSettings dns_only;
  CHECK(addrs(run(dns_only, hop("example.test"))) == std::vector<std::string>{"192.0.2.1"});
  CHECK(native.asked.empty());

  RouteSettings native_only;
  native_only.dns_hosts = false;
  native_only.native_hosts = true;
  CHECK(addrs(run(native_only, hop("example.test"))) == std::vector<std::string>{"198.51.100.1", "198.51.100.2"});

  RouteSettings both;
  both.native_hosts = true;  // DNS first; native only where DNS knows no address
  CHECK(addrs(run(both, hop("example.test"))) == std::vector<std::string>{"192.0.2.1", "198.51.100.2"});
  // A temporary DNS failure is not papered over by the native lookup.
  d.status[{"mx2.example.test", dns::RrType::a}] = dns::Status::timeout;
  CHECK(addrs(run(both, hop("example.test"))) == std::vector<std::string>{"192.0.2.1"});

  // DNS disabled: no MX lookup, the host's own native addresses.
  RouteSettings off;
  off.mx_lookup = false;
  off.dns_hosts = false;
  off.native_hosts = true;
  d.asked.clear();
  Route r = run(off, hop("mx2.example.test"));
  CHECK(d.asked.empty());
  CHECK(addrs(r) == std::vector<std::string>{"198.51.100.2"});
}

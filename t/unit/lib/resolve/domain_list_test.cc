// Postfix domain match lists and interface addresses (lib/resolve internals).
#include "lib/resolve/domain_list.h"

#include <fcntl.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/maps/builder.h"
#include "t/unit/lib/resolve/resolve_test_util.h"

using namespace posthorn;
using namespace posthorn::resolve;
using namespace posthorn::resolve::detail;
using posthorn::resolve::test::TempDir;

namespace {

struct List {
  TableSet tables;
  DomainList list;
  List(const std::vector<std::string>& patterns, bool parent_style = false) {
    auto l = DomainList::parse(patterns, "test_domains", parent_style, tables);
    if (!l) FAIL(l.error().detail);
    list = std::move(*l);
  }
  bool operator()(std::string_view domain) const {
    auto m = list.match(fold_domain(domain), tables);
    if (!m) FAIL(m.error().detail);
    return *m;
  }
};

}  // namespace

TEST_CASE("domain lists: names, .names, case and trailing dot", "[resolve][domains]") {
  List l({"Example.COM", ".sub.example.net", "localhost."});
  CHECK(l("example.com"));
  CHECK(l("EXAMPLE.com."));
  CHECK(l("localhost"));
  CHECK_FALSE(l("www.example.com"));  // a plain name is the domain only
  CHECK_FALSE(l("xexample.com"));
  CHECK(l("a.sub.example.net"));
  CHECK(l("a.b.sub.example.net"));
  CHECK_FALSE(l("sub.example.net"));  // ".name" is below name only
  CHECK_FALSE(l("xsub.example.net"));
  CHECK_FALSE(l("example.org"));
  CHECK_FALSE(l(""));
}

TEST_CASE("domain lists: parent style lets a name match its subdomains", "[resolve][domains]") {
  List l({"example.com"}, true);
  CHECK(l("example.com"));
  CHECK(l("www.example.com"));
  CHECK(l("a.b.example.com"));
  CHECK_FALSE(l("xexample.com"));
  CHECK_FALSE(l("com"));
}

TEST_CASE("domain lists: the first match decides, ! excludes", "[resolve][domains]") {
  List l({"!private.example.com", ".example.com", "!example.org", "example.org"});
  CHECK(l("www.example.com"));
  CHECK_FALSE(l("private.example.com"));
  CHECK_FALSE(l("example.org"));  // the exclusion comes first
  TableSet t;
  CHECK_FALSE(DomainList::parse({"!"}, "p", false, t));
}

TEST_CASE("domain lists: tables, with dot or bare parents", "[resolve][domains]") {
  TempDir d;
  std::string spec = "texthash:" + d.file("domains", "example.com  ok\n.example.net ok\n");
  List dot({spec});
  CHECK(dot("example.com"));
  CHECK(dot("Example.Com."));
  CHECK_FALSE(dot("www.example.com"));  // "example.com" is not ".example.com"
  CHECK(dot("www.example.net"));
  CHECK_FALSE(dot("example.net"));
  List bare({spec}, true);
  CHECK(bare("www.example.com"));      // parent style looks up "example.com"
  CHECK_FALSE(bare("www.example.net"));  // and no longer ".example.net"

  List neg({"!inline:{bad.example=x}", "inline:{.example=x}"});
  CHECK(neg("good.example"));
  CHECK_FALSE(neg("bad.example"));
}

TEST_CASE("domain lists: pattern tables see the whole domain", "[resolve][domains]") {
  TempDir d;
  List l({"regexp:" + d.file("re", "/^mail[0-9]+\\.example\\.com$/ ok\n")});
  CHECK(l("mail1.example.com"));
  CHECK(l("MAIL22.example.com"));
  CHECK_FALSE(l("x.mail1.example.com"));
}

TEST_CASE("domain lists: /file patterns", "[resolve][domains]") {
  TempDir d;
  std::string table = "texthash:" + d.file("t", "from-table.example x\n");
  std::string file = d.file("list", "# our domains\none.example, two.example  # two\n\n" + table +
                                        "\n!no.three.example .three.example\n");
  List l({file, "four.example"});
  for (std::string_view yes : {"one.example", "two.example", "from-table.example", "x.three.example",
                               "four.example"})
    CHECK(l(yes));
  CHECK_FALSE(l("no.three.example"));
  CHECK_FALSE(l("example"));

  TableSet t;
  auto missing = DomainList::parse({(d.path() / "nope").string()}, "relay_domains", false, t);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  CHECK_THAT(missing.error().detail, Catch::StartsWith("relay_domains: "));
  std::string nested = d.file("nested", file + "\n");
  auto nest = DomainList::parse({nested}, "relay_domains", false, t);
  REQUIRE_FALSE(nest);
  CHECK_THAT(nest.error().detail, Catch::Contains("names another file"));
}

TEST_CASE("domain lists: a table that does not open or cannot be read", "[resolve][domains]") {
  TempDir d;
  TableSet t;
  auto missing = DomainList::parse({"texthash:" + (d.path() / "nope").string()}, "mydestination",
                                   false, t);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  CHECK_THAT(missing.error().detail, Catch::StartsWith("mydestination: "));

  std::string spec = "lmdb:" + (d.path() / "doms").string();
  auto b = maps::create_table(spec);
  REQUIRE(b);
  REQUIRE((*b)->add("example.com", "ok"));
  REQUIRE((*b)->commit());
  List l({spec});
  CHECK(l("example.com"));
  {  // rewritten in place, as a foreign postmap might: lookups must fail
    auto fd = open_file(d.path() / "doms.lmdb", O_WRONLY | O_TRUNC);
    REQUIRE(fd);
    REQUIRE(write_all(fd->get(), "short"));
  }
  auto m = l.list.match("example.com", l.tables);
  REQUIRE_FALSE(m);
  CHECK_THAT(m.error().detail, Catch::StartsWith("test_domains: " + spec + ": "));
}

TEST_CASE("table sets open each spec once", "[resolve][domains]") {
  TableSet t;
  auto a = t.open("inline:{a=1}", "virtual_alias_maps");
  auto b = t.open("inline:{a=1}", "virtual_alias_domains");
  auto c = t.open("inline:{b=1}", "transport_maps");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(*a == *b);
  CHECK(*c != *a);
  CHECK(t.size() == 2);
  CHECK(t.param(*a) == "virtual_alias_maps");
  auto bad = t.open("nosuchtype:x", "transport_maps");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid);
  CHECK_THAT(bad.error().detail, Catch::StartsWith("transport_maps: "));
}

TEST_CASE("interface addresses for [address] domains", "[resolve][domains]") {
  LocalAddresses la;
  REQUIRE(la.add("192.0.2.1", "inet_interfaces"));
  REQUIRE(la.add("[2001:db8::7]", "proxy_interfaces"));
  REQUIRE(la.add("loopback-only", "inet_interfaces"));
  CHECK(la.contains("[192.0.2.1]"));
  CHECK(la.contains("[ipv6:::ffff:192.0.2.1]"));  // the same address, mapped
  CHECK(la.contains("[ipv6:2001:db8:0:0:0:0:0:7]"));
  CHECK(la.contains("[IPv6:2001:DB8::7]"));
  CHECK(la.contains("[127.0.0.1]"));
  CHECK(la.contains("[ipv6:::1]"));
  CHECK_FALSE(la.contains("[192.0.2.2]"));
  CHECK_FALSE(la.contains("192.0.2.1"));
  CHECK_FALSE(la.contains("[2001:db8::7]"));  // RFC 5321 wants the IPv6: tag
  CHECK_FALSE(la.contains("[garbage]"));
  CHECK_FALSE(la.contains("[]"));

  LocalAddresses all;
  REQUIRE(all.add("all", "inet_interfaces"));
  CHECK(all.contains("[127.0.0.1]"));  // the loopback interface
  CHECK_FALSE(all.contains("[192.0.2.254]"));

  LocalAddresses named;
  REQUIRE(named.add("localhost", "inet_interfaces"));
  CHECK(named.contains("[127.0.0.1]"));
}

// Resolver: address classes, transport_maps, next hops, failures, refresh.
// Virtual aliases: virtual_alias_test.cc.
#include <fcntl.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/maps/builder.h"
#include "t/unit/lib/resolve/resolve_test_util.h"

using namespace posthorn;
using namespace posthorn::resolve;
using namespace posthorn::resolve::test;

TEST_CASE("resolve: the address classes and their default transports", "[resolve]") {
  TempDir d;
  std::string vmbox = "texthash:" + d.file("vmailbox", "vm.example x\nbob@vm.example bob/\n");
  Resolver r = resolver_of("relay_domains = relay.example\n"
                           "virtual_mailbox_maps = " + vmbox + "\n"
                           "virtual_alias_domains = va.example\n");
  CHECK(show(r, "joe@mx.example.org") == "joe@mx.example.org local:mx.example.org local");
  CHECK(show(r, "joe@localhost") == "joe@localhost local:mx.example.org local");
  CHECK(show(r, "joe@localhost.example.org") ==
        "joe@localhost.example.org local:mx.example.org local");
  CHECK(show(r, "bob@vm.example") == "bob@vm.example virtual:vm.example virtual");
  CHECK(show(r, "joe@relay.example") == "joe@relay.example relay:relay.example relay");
  // relay_domains is in parent_domain_matches_subdomains by default.
  CHECK(show(r, "joe@a.relay.example") == "joe@a.relay.example relay:a.relay.example relay");
  CHECK(show(r, "joe@other.example") == "joe@other.example smtp:other.example default");
  CHECK(show(r, "joe@va.example") ==
        "joe@va.example error:5.1.1 User unknown in virtual alias table virtual alias");
}

TEST_CASE("resolve: domains ignore case and one trailing dot", "[resolve]") {
  Resolver r = resolver_of("");
  CHECK(show(r, "Joe@MX.Example.ORG.") == "Joe@mx.example.org local:mx.example.org local");
  CHECK(show(r, "Joe@Other.Example.") == "Joe@other.example smtp:other.example default");
  CHECK(show(r, "  joe@other.example ") == "joe@other.example smtp:other.example default");
  // Two dots are not a domain.
  CHECK(show(r, "joe@other.example..") == "FAIL 5.1.3 Bad recipient address syntax");
}

TEST_CASE("resolve: unqualified addresses, postmaster and the empty address", "[resolve]") {
  Resolver r = resolver_of("");
  CHECK(show(r, "joe") == "joe@mx.example.org local:mx.example.org local");
  CHECK(show(r, "") == "MAILER-DAEMON@mx.example.org local:mx.example.org local");

  // myorigin that is not ours (a null client): joe goes out, postmaster stays.
  Resolver nc = resolver_of("myorigin = example.com\nempty_address_recipient = nobody\n");
  CHECK(show(nc, "joe") == "joe@example.com smtp:example.com default");
  CHECK(show(nc, "postmaster") == "postmaster@example.com local:mx.example.org local");
  CHECK(show(nc, "PostMaster") == "PostMaster@example.com local:mx.example.org local");
  CHECK(show(nc, "postmaster@example.com") == "postmaster@example.com smtp:example.com default");
  CHECK(show(nc, "") == "nobody@mx.example.org local:mx.example.org local");
}

TEST_CASE("resolve: addresses that do not parse are permanent failures", "[resolve]") {
  Resolver r = resolver_of("");
  for (std::string_view bad : {"a b@example.com", "joe@exa mple.com", "joe@-bad.example",
                               "joe@[300.1.1.1]", "@example.com", "a\r\nb@example.com"}) {
    INFO(bad);
    Resolution res = r.resolve(bad);
    CHECK(show(res) == "FAIL 5.1.3 Bad recipient address syntax");
    CHECK_FALSE(res.temporary);
    CHECK_THAT(res.detail, Catch::StartsWith("recipient \""));
  }
}

TEST_CASE("resolve: [address] literals of our interfaces are local", "[resolve]") {
  Resolver all = resolver_of("");  // inet_interfaces = all
  CHECK(show(all, "joe@[127.0.0.1]") == "joe@[127.0.0.1] local:mx.example.org local");
  CHECK(show(all, "joe@[192.0.2.254]") == "joe@[192.0.2.254] smtp:[192.0.2.254] default");

  Resolver some = resolver_of("inet_interfaces = 192.0.2.1, [2001:db8::1]\n"
                              "proxy_interfaces = 198.51.100.7\n");
  CHECK(show(some, "joe@[192.0.2.1]") == "joe@[192.0.2.1] local:mx.example.org local");
  CHECK(show(some, "joe@[IPv6:2001:DB8::1]") == "joe@[IPv6:2001:db8::1] local:mx.example.org local");
  CHECK(show(some, "joe@[198.51.100.7]") == "joe@[198.51.100.7] local:mx.example.org local");
  CHECK(show(some, "joe@[127.0.0.1]") == "joe@[127.0.0.1] smtp:[127.0.0.1] default");

  Resolver lo = resolver_of("inet_interfaces = loopback-only\n");
  CHECK(show(lo, "joe@[IPv6:::1]") == "joe@[IPv6:::1] local:mx.example.org local");
}

TEST_CASE("resolve: mydestination with tables and other list forms", "[resolve]") {
  TempDir d;
  std::string table = "texthash:" + d.file("local", "ours.example x\n.sub.example x\n");
  std::string file = d.file("more", "# more of ours\nfile.example\n");
  Resolver r = resolver_of("mydestination = $myhostname, " + table + ", " + file +
                           ", inline:{inline.example=x}, !no.ours.example, .ours.example\n");
  for (std::string_view yes : {"ours.example", "a.sub.example", "file.example", "inline.example",
                               "x.ours.example", "mx.example.org"}) {
    INFO(yes);
    auto c = r.classify_domain(yes);
    REQUIRE(c);
    CHECK(*c == AddressClass::local);
  }
  for (std::string_view no : {"sub.example", "no.ours.example", "localhost", "other.example"}) {
    INFO(no);
    auto c = r.classify_domain(no);
    REQUIRE(c);
    CHECK(*c == AddressClass::default_);
  }
}

TEST_CASE("classify_domain: the class alone, for smtpd", "[resolve]") {
  TempDir d;
  std::string va = "texthash:" + d.file("virtual", "va.example anything\nal@va.example x@y\n");
  Resolver r = resolver_of("virtual_alias_maps = " + va +
                           "\nvirtual_mailbox_domains = vm.example\nrelay_domains = relay.example\n");
  auto cls = [&](std::string_view domain) {
    auto c = r.classify_domain(domain);
    if (!c) FAIL(c.error().detail);
    return *c;
  };
  CHECK(cls("") == AddressClass::local);
  CHECK(cls("MX.example.org.") == AddressClass::local);
  CHECK(cls("[127.0.0.1]") == AddressClass::local);
  CHECK(cls("[IPv6:::1]") == (cls("[ipv6:::1]")));
  CHECK(cls("va.example") == AddressClass::virtual_alias);
  CHECK(cls("vm.example") == AddressClass::virtual_mailbox);
  CHECK(cls("Relay.Example") == AddressClass::relay);
  CHECK(cls("sub.relay.example") == AddressClass::relay);
  CHECK(cls("elsewhere.example") == AddressClass::default_);
}

TEST_CASE("resolve: transport parameters and relayhost", "[resolve]") {
  SECTION("relayhost forms apply to the relay and default classes") {
    for (std::string_view hop : {"gw.example", "[gw.example]", "[gw.example]:587", "gw.example:2525",
                                 "[192.0.2.9]", "[gw1.example]:587, [gw2.example]:587"}) {
      INFO(hop);
      Resolver r = resolver_of("relayhost = " + std::string(hop) +
                               "\nrelay_domains = relay.example\nvirtual_mailbox_domains = vm.example\n");
      CHECK(show(r, "a@b.example") == "a@b.example smtp:" + std::string(hop) + " default");
      CHECK(show(r, "a@relay.example") == "a@relay.example relay:" + std::string(hop) + " relay");
      CHECK(show(r, "a@vm.example") == "a@vm.example virtual:vm.example virtual");
      CHECK(show(r, "a@localhost") == "a@localhost local:mx.example.org local");
    }
  }
  SECTION("a next hop in the transport parameter wins over relayhost") {
    Resolver r = resolver_of("relayhost = [gw.example]\n"
                             "default_transport = smtp:[out.example]:2525\n"
                             "relay_transport = lmtp:unix:/run/lmtp\nrelay_domains = relay.example\n"
                             "local_transport = local\nvirtual_transport = virtual:[store.example]\n"
                             "virtual_mailbox_domains = vm.example\n");
    CHECK(show(r, "a@b.example") == "a@b.example smtp:[out.example]:2525 default");
    CHECK(show(r, "a@relay.example") == "a@relay.example lmtp:unix:/run/lmtp relay");
    CHECK(show(r, "a@localhost") == "a@localhost local:mx.example.org local");
    CHECK(show(r, "a@vm.example") == "a@vm.example virtual:[store.example] virtual");
  }
  SECTION("error and discard as class transports (a null client, a sink)") {
    Resolver r = resolver_of("default_transport = error:5.7.1 No outbound mail here\n"
                             "local_transport = error\nrelayhost = [gw.example]\n"
                             "relay_transport = discard\nrelay_domains = relay.example\n");
    CHECK(show(r, "a@b.example") == "a@b.example error:5.7.1 No outbound mail here default");
    CHECK(show(r, "a@localhost") == "a@localhost error:Address is undeliverable local");
    CHECK(show(r, "a@relay.example") == "a@relay.example discard:[gw.example] relay");
    Resolution res = r.resolve("a@b.example");
    CHECK(special_status(res.destinations[0]) == Status{"5.7.1", "No outbound mail here"});
  }
}

TEST_CASE("resolve: transport_maps search order", "[resolve][transport]") {
  TempDir d;
  std::string table = "texthash:" + d.file("transport",
                                           "user+ext@t.example   full:\n"
                                           "user@t.example       stripped:\n"
                                           "t.example            domain:\n"
                                           ".t.example           parent:\n"
                                           "*                    wild:\n");
  Resolver r = resolver_of("recipient_delimiter = +\ntransport_maps = " + table + "\n");
  CHECK(show(r, "user+ext@t.example") == "user+ext@t.example full:t.example default");
  CHECK(show(r, "USER+EXT@T.example") == "USER+EXT@t.example full:t.example default");
  CHECK(show(r, "user+other@t.example") == "user+other@t.example stripped:t.example default");
  CHECK(show(r, "user@t.example") == "user@t.example stripped:t.example default");
  CHECK(show(r, "bob@t.example") == "bob@t.example domain:t.example default");
  CHECK(show(r, "bob@a.b.t.example") == "bob@a.b.t.example parent:a.b.t.example default");
  CHECK(show(r, "bob@else.example") == "bob@else.example wild:else.example default");
  // The wildcard applies to every class, local included (as Postfix).
  CHECK(show(r, "bob@localhost") == "bob@localhost wild:localhost local");

  Resolver no_delim = resolver_of("transport_maps = " + table + "\n");
  CHECK(show(no_delim, "user+other@t.example") == "user+other@t.example domain:t.example default");
}

TEST_CASE("resolve: transport_maps forms go through every table first", "[resolve][transport]") {
  TempDir d;
  std::string a = "texthash:" + d.file("a", "t.example  a:\n*  a-wild:\n");
  std::string b = "texthash:" + d.file("b", "joe@t.example  b:\n.example  b-parent:\n");
  Resolver r = resolver_of("transport_maps = " + a + ", " + b + "\n");
  CHECK(show(r, "joe@t.example") == "joe@t.example b:t.example default");
  CHECK(show(r, "ann@t.example") == "ann@t.example a:t.example default");
  CHECK(show(r, "ann@u.example") == "ann@u.example b-parent:u.example default");
  CHECK(show(r, "ann@u.test") == "ann@u.test a-wild:u.test default");
}

TEST_CASE("resolve: transport_maps with parent style", "[resolve][transport]") {
  TempDir d;
  std::string t = "texthash:" + d.file("t", "t.example  bare:\n.u.example  dotted:\n");
  Resolver r = resolver_of("parent_domain_matches_subdomains = transport_maps\n"
                           "transport_maps = " + t + "\n");
  CHECK(show(r, "joe@x.t.example") == "joe@x.t.example bare:x.t.example default");
  CHECK(show(r, "joe@x.u.example") == "joe@x.u.example smtp:x.u.example default");
}

TEST_CASE("resolve: pattern tables see only the whole address", "[resolve][transport]") {
  TempDir d;
  std::string re = "regexp:" + d.file("re",
                                      "/^t\\.example$/        domain-only:\n"
                                      "/^user@t\\.example$/   stripped-only:\n"
                                      "/^[^@]*@r\\.example$/  whole:[relay.example]\n");
  Resolver r = resolver_of("recipient_delimiter = +\ntransport_maps = " + re + "\n");
  CHECK(show(r, "joe@t.example") == "joe@t.example smtp:t.example default");
  CHECK(show(r, "user+x@t.example") == "user+x@t.example smtp:t.example default");
  CHECK(show(r, "user@t.example") == "user@t.example stripped-only:t.example default");
  CHECK(show(r, "joe@r.example") == "joe@r.example whole:[relay.example] default");
}

TEST_CASE("resolve: transport value forms", "[resolve][transport]") {
  TempDir d;
  std::string t = "texthash:" + d.file("t",
                                       "keep.example     :\n"
                                       "trans.example    relay:\n"
                                       "hop.example      :[hop.example]:2525\n"
                                       "both.example     lmtp:[store.example]:24\n"
                                       "bare.example     uucp\n"
                                       "err.example      error:5.1.1 No such domain here\n"
                                       "errempty.example error:\n"
                                       "later.example    retry:4.4.1 Try later\n"
                                       "trap.example     discard:spam trap\n"
                                       "drop.example     discard:\n"
                                       "mx.example.org   lmtp:unix:/run/lmtp\n"
                                       "localhost        :\n");
  Resolver r = resolver_of("relayhost = [gw.example]\ntransport_maps = " + t + "\n");
  struct Case {
    std::string_view rcpt;
    std::string_view want;
  };
  const Case cases[] = {
      // ":" changes nothing: the class's transport and relayhost stay.
      {"a@keep.example", "a@keep.example smtp:[gw.example] default"},
      // "relay:" resets the next hop to the recipient's domain.
      {"a@trans.example", "a@trans.example relay:trans.example default"},
      {"a@hop.example", "a@hop.example smtp:[hop.example]:2525 default"},
      {"a@both.example", "a@both.example lmtp:[store.example]:24 default"},
      {"a@bare.example", "a@bare.example uucp:bare.example default"},
      {"a@err.example", "a@err.example error:5.1.1 No such domain here default"},
      {"a@errempty.example", "a@errempty.example error:Address is undeliverable default"},
      {"a@later.example", "a@later.example retry:4.4.1 Try later default"},
      {"a@trap.example", "a@trap.example discard:spam trap default"},
      {"a@drop.example", "a@drop.example discard:drop.example default"},
      {"a@mx.example.org", "a@mx.example.org lmtp:unix:/run/lmtp local"},
      {"a@localhost", "a@localhost local:mx.example.org local"},
  };
  for (const Case& c : cases) CHECK(show(r, c.rcpt) == c.want);
}

TEST_CASE("resolve: a transport value that cannot be used defers", "[resolve][transport]") {
  TempDir d;
  std::string t = "texthash:" + d.file("t", "bad.example  [gw.example]:25\n");
  Resolver r = resolver_of("transport_maps = " + t + "\n");
  Resolution res = r.resolve("a@bad.example");
  CHECK(show(res) == "FAIL 4.3.5 Mail system configuration error");
  CHECK_THAT(res.detail, Catch::StartsWith("transport_maps: " + t + ": bad.example -> "));
  CHECK_THAT(res.detail, Catch::Contains("is not a service name"));
}

TEST_CASE("resolve: unknown virtual alias users are not routed by transport_maps",
          "[resolve][transport]") {
  Resolver r = resolver_of("virtual_alias_domains = va.example\ntransport_maps = inline:{*=wild:}\n");
  CHECK(show(r, "a@va.example") ==
        "a@va.example error:5.1.1 User unknown in virtual alias table virtual alias");
  CHECK(show(r, "a@b.example") == "a@b.example wild:b.example default");
}

TEST_CASE("resolve: indexed tables built with posthorn map", "[resolve][transport]") {
  TempDir d;
  std::vector<std::string> types{"lmdb"};
#ifndef POSTHORN_WITHOUT_BDB
  types.push_back("hash");
  types.push_back("btree");
#endif
  for (const std::string& type : types) {
    INFO(type);
    std::string base = (d.path() / ("transport-" + type)).string();
    REQUIRE(write_file_durable(base, "T.Example  relay:[gw.example]\n*  out:\n"));
    auto built = maps::build_from_source(type + ":" + base, maps::SourceFormat::map);
    REQUIRE(built);
    Resolver r = resolver_of("transport_maps = " + type + ":" + base + "\n");
    CHECK(show(r, "a@t.example") == "a@t.example relay:[gw.example] default");
    CHECK(show(r, "a@u.example") == "a@u.example out:u.example default");
  }
}

TEST_CASE("resolve: a table read error is a temporary failure 4.3.0", "[resolve][errors]") {
  TempDir d;
  std::string spec = "lmdb:" + (d.path() / "t").string();
  auto write = [&](std::string_view value) {
    auto b = maps::create_table(spec);
    REQUIRE(b);
    REQUIRE((*b)->add("t.example", value));
    REQUIRE((*b)->commit());
  };
  write("one:");
  for (std::string_view param : {"transport_maps", "virtual_alias_maps", "relay_domains"}) {
    INFO(param);
    write(param == "virtual_alias_maps" ? "x@y.example" : "one:");
    Resolver r = resolver_of(std::string(param) + " = " + spec + "\n");
    REQUIRE_FALSE(r.resolve("a@t.example").failed);
    {  // rewritten in place (not by rename): the open table cannot be read
      auto fd = open_file(d.path() / "t.lmdb", O_WRONLY | O_TRUNC);
      REQUIRE(fd);
      REQUIRE(write_all(fd->get(), "short"));
    }
    Resolution res = r.resolve("a@t.example");
    CHECK(res.failed);
    CHECK(res.temporary);
    CHECK(res.dsn == "4.3.0");
    CHECK_THAT(res.text, Catch::EndsWith("lookup failure"));
    CHECK_THAT(res.detail, Catch::Contains(std::string(param) + ": " + spec));
    if (param == "relay_domains") CHECK_FALSE(r.classify_domain("t.example"));
  }
}

TEST_CASE("from_config: errors name the parameter", "[resolve][errors]") {
  TempDir d;
  std::string missing = "texthash:" + (d.path() / "nope").string();
  struct Case {
    std::string main_cf;
    Errc code;
    std::string_view starts;
  };
  const Case cases[] = {
      {"transport_maps = " + missing, Errc::not_found, "transport_maps: "},
      {"virtual_alias_maps = " + missing, Errc::not_found, "virtual_alias_maps: "},
      {"virtual_mailbox_maps = " + missing, Errc::not_found, "virtual_mailbox_domains: "},
      {"relay_domains = nosuch:type", Errc::invalid, "relay_domains: "},
      {"relayhost = 192.0.2.1", Errc::invalid, "relayhost: an IP address must be in brackets"},
      {"relayhost = [gw.example", Errc::invalid, "relayhost: "},
      {"local_transport = :mx", Errc::invalid, "local_transport: \":mx\" names no transport"},
      {"default_transport = [gw]:25", Errc::invalid, "default_transport: transport"},
      {"myorigin = bad..example", Errc::invalid, "myorigin: "},
      {"transport_maps = inline:{*=[gw]:25}", Errc::invalid,
       "transport_maps: inline:{*=[gw]:25}: * -> \"[gw]:25\": transport"},
      {"inet_interfaces = 192.0.2.1\nproxy_interfaces = bad_host!", Errc::invalid,
       "proxy_interfaces: \"bad_host!\" is not an address or host name"},
  };
  for (const Case& c : cases) {
    INFO(c.main_cf);
    auto r = Resolver::from_config(config_of(c.main_cf + "\n"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == c.code);
    CHECK_THAT(r.error().detail, Catch::StartsWith(std::string(c.starts)));
  }
}

TEST_CASE("refresh: changed tables are reopened, broken ones kept", "[resolve][refresh]") {
  TempDir d;
  std::string file = d.file("transport", "t.example  one:\n");
  Resolver r = resolver_of("transport_maps = texthash:" + file + "\n");
  CHECK(show(r, "a@t.example") == "a@t.example one:t.example default");
  auto none = r.refresh();
  REQUIRE(none);
  CHECK(*none == 0);

  d.file("transport", "t.example  two:\n");  // replaced by rename, as posthorn map does
  auto one = r.refresh();
  REQUIRE(one);
  CHECK(*one == 1);
  CHECK(show(r, "a@t.example") == "a@t.example two:t.example default");

  REQUIRE(std::filesystem::remove(file));
  auto gone = r.refresh();
  REQUIRE_FALSE(gone);
  CHECK_THAT(gone.error().detail, Catch::StartsWith("transport_maps: "));
  CHECK(show(r, "a@t.example") == "a@t.example two:t.example default");  // the old one stays
}

TEST_CASE("resolve: a list into one domain, user and domain entries", "[resolve][transport]") {
  TempDir d;
  std::string t = "texthash:" + d.file("t", "joe@t.example  a:\nt.example  b:\n.u.example  c:\n");
  std::string v = "texthash:" + d.file("v", "list@x.example  joe@t.example ann@t.example "
                                            "joe@u.example ann@v.u.example bob@t.example\n");
  Resolver r = resolver_of("transport_maps = " + t + "\nvirtual_alias_maps = " + v + "\n");
  CHECK(show(r, "list@x.example") ==
        "joe@t.example a:t.example default; ann@t.example b:t.example default; "
        "joe@u.example smtp:u.example default; ann@v.u.example c:v.u.example default; "
        "bob@t.example b:t.example default");
}

TEST_CASE("refresh: a new \"*\" in transport_maps is seen", "[resolve][refresh]") {
  TempDir d;
  std::string file = d.file("transport", "t.example  one:\n");
  Resolver r = resolver_of("transport_maps = texthash:" + file + "\n");
  CHECK(show(r, "a@u.example") == "a@u.example smtp:u.example default");
  d.file("transport", "t.example  one:\n*  wild:[gw.example]\n");
  REQUIRE(r.refresh());
  CHECK(show(r, "a@u.example") == "a@u.example wild:[gw.example] default");
  CHECK(show(r, "a@t.example") == "a@t.example one:t.example default");
  d.file("transport", "*  [bad]:25\n");
  auto bad = r.refresh();
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().detail, Catch::Contains("* -> \"[bad]:25\""));
  CHECK(show(r, "a@u.example") == "a@u.example wild:[gw.example] default");
}

TEST_CASE("resolver: moved, it keeps working", "[resolve]") {
  Resolver a = resolver_of("relay_domains = relay.example\n");
  Resolver b = std::move(a);
  CHECK(show(b, "x@relay.example") == "x@relay.example relay:relay.example relay");
  Resolver c = resolver_of("");
  c = std::move(b);
  CHECK(show(c, "x@relay.example") == "x@relay.example relay:relay.example relay");
}

// The value syntax of lib/resolve: transport values, next hops, virtual
// alias results, special transport status.
#include <catch2/catch.hpp>

#include "lib/resolve/resolve.h"

using namespace posthorn;
using namespace posthorn::resolve;

TEST_CASE("transport values split at the first colon", "[resolve][values]") {
  struct Case {
    std::string_view in;
    TransportValue want;
  };
  const Case cases[] = {
      {"smtp:[mx.example.org]:25", {"smtp", "[mx.example.org]:25"}},
      {"smtp:", {"smtp", ""}},
      {"smtp", {"smtp", ""}},
      {":", {"", ""}},
      {"", {"", ""}},
      {":[gw.example]", {"", "[gw.example]"}},
      {"  relay :  gw.example  ", {"relay", "gw.example"}},
      {"lmtp:unix:/run/dovecot/lmtp", {"lmtp", "unix:/run/dovecot/lmtp"}},
      {"error:5.1.1 No such user here", {"error", "5.1.1 No such user here"}},
      {"smtp-amavis_2.x+y:[127.0.0.1]:10024", {"smtp-amavis_2.x+y", "[127.0.0.1]:10024"}},
      {"discard:\tspam\ttrap", {"discard", "spam\ttrap"}},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto tv = parse_transport_value(c.in);
    REQUIRE(tv);
    CHECK(*tv == c.want);
  }
}

TEST_CASE("transport values that cannot be used are refused", "[resolve][values]") {
  using namespace std::string_view_literals;
  for (std::string_view bad : {"[mx.example.org]:25"sv, "sm tp:x"sv, "smtp/x:y"sv, "smtp:a\nb"sv,
                               "smtp:a\0b"sv, "smtp:\x7f"sv}) {
    INFO(bad);
    auto tv = parse_transport_value(bad);
    REQUIRE_FALSE(tv);
    CHECK(tv.error().code == Errc::parse);
  }
}

TEST_CASE("next hops: host, [host], host:port, [host]:port", "[resolve][values]") {
  struct Case {
    std::string_view in;
    NextHop want;
  };
  const Case cases[] = {
      {"mx.example.org", {"mx.example.org", "", true}},
      {"Mail.Example.ORG.", {"mail.example.org", "", true}},
      {"[mx.example.org]", {"mx.example.org", "", false}},
      {"mx.example.org:2525", {"mx.example.org", "2525", true}},
      {"[mx.example.org]:587", {"mx.example.org", "587", false}},
      {"[192.0.2.1]", {"192.0.2.1", "", false}},
      {"[192.0.2.1]:25", {"192.0.2.1", "25", false}},
      {"[2001:DB8::1]:587", {"2001:db8::1", "587", false}},
      {"[IPv6:2001:db8::1]", {"2001:db8::1", "", false}},
      {"relay.example:submission", {"relay.example", "submission", true}},
      {" localhost ", {"localhost", "", true}},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto hop = parse_nexthop(c.in);
    if (!hop) FAIL(hop.error().detail);
    CHECK(*hop == c.want);
  }
}

TEST_CASE("bad next hops say what is wrong", "[resolve][values]") {
  struct Case {
    std::string_view in;
    std::string_view says;
  };
  const Case cases[] = {
      {"", "empty"},
      {"[mx.example.org", "no ']'"},
      {"mx.example.org]", "unbalanced"},
      {"192.0.2.1", "must be in brackets: \"[192.0.2.1]\""},
      {"192.0.2.1:25", "must be in brackets"},
      {"2001:db8::1", "IPv6 address must be in brackets"},
      {"[mx.example.org]x", "text after ']'"},
      {"[mx.example.org]:", "empty port"},
      {"mx.example.org:0", "not 1-65535"},
      {"mx.example.org:65536", "not 1-65535"},
      {"mx.example.org:s!mtp", "bad port"},
      {"[ipv6:192.0.2.1]", "bad IPv6 address"},
      {"bad_host.example", "bad host name"},
      {"[]", "empty host name"},
      {"a..b", "bad host name"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto hop = parse_nexthop(c.in);
    REQUIRE_FALSE(hop);
    CHECK(hop.error().code == Errc::parse);
    CHECK_THAT(hop.error().detail, Catch::Contains(std::string(c.says)));
  }
}

TEST_CASE("next-hop lists", "[resolve][values]") {
  auto two = parse_nexthop_list("[a.example]:587, [b.example]:587\tc.example");
  REQUIRE(two);
  REQUIRE(two->size() == 3);
  CHECK((*two)[1] == NextHop{"b.example", "587", false});
  CHECK((*two)[2] == NextHop{"c.example", "", true});
  CHECK_FALSE(parse_nexthop_list(" , "));
  CHECK_FALSE(parse_nexthop_list("a.example, 192.0.2.1"));
}

TEST_CASE("virtual alias values split at commas and white space", "[resolve][values]") {
  using V = std::vector<std::string>;
  struct Case {
    std::string_view in;
    V want;
  };
  const Case cases[] = {
      {"a@x.example", {"a@x.example"}},
      {"a@x.example, b@y.example", {"a@x.example", "b@y.example"}},
      {"a@x.example b@y.example\tc,,d", {"a@x.example", "b@y.example", "c", "d"}},
      {"<a@x.example>,<b@y.example>", {"a@x.example", "b@y.example"}},
      {"\"john doe\"@x.example, c", {"\"john doe\"@x.example", "c"}},
      {"\"a,b \\\" c\"@x.example", {"\"a,b \\\" c\"@x.example"}},
      {"  a  ", {"a"}},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto v = split_address_list(c.in);
    REQUIRE(v);
    CHECK(*v == c.want);
  }
  for (std::string_view bad : {"\"open@x.example", "<a@x.example", "", " , ", "\"a\\\""}) {
    INFO(bad);
    CHECK_FALSE(split_address_list(bad));
  }
}

TEST_CASE("special transports carry their status in the next hop", "[resolve][values]") {
  auto st = [](std::string_view transport, std::string_view nexthop) {
    return special_status(Destination{"a@x.example", AddressClass::default_, std::string(transport),
                                      std::string(nexthop)});
  };
  CHECK(st("error", "5.1.1 No such user") == Status{"5.1.1", "No such user"});
  CHECK(st("error", "4.2.0 mailbox busy") == Status{"5.2.0", "mailbox busy"});
  CHECK(st("error", "Go away") == Status{"5.0.0", "Go away"});
  CHECK(st("error", "5.1.1") == Status{"5.1.1", ""});
  CHECK(st("error", "5.1.10x text") == Status{"5.0.0", "5.1.10x text"});
  CHECK(st("error", "5.1234.1 text") == Status{"5.0.0", "5.1234.1 text"});
  CHECK(st("retry", "5.3.0 try later") == Status{"4.3.0", "try later"});
  CHECK(st("retry", "") == Status{"4.0.0", ""});
  CHECK(st("discard", "spam trap") == Status{"2.0.0", "spam trap"});
  CHECK(st("smtp", "mx.example.org") == Status{"", "mx.example.org"});
  CHECK(is_special_transport("error"));
  CHECK(is_special_transport("retry"));
  CHECK(is_special_transport("discard"));
  CHECK_FALSE(is_special_transport("smtp"));
  CHECK_FALSE(is_special_transport("Error"));
}

TEST_CASE("class names for logs", "[resolve][values]") {
  CHECK(class_name(AddressClass::local) == "local");
  CHECK(class_name(AddressClass::virtual_mailbox) == "virtual");
  CHECK(class_name(AddressClass::relay) == "relay");
  CHECK(class_name(AddressClass::default_) == "default");
  CHECK(class_name(AddressClass::virtual_alias) == "virtual alias");
}

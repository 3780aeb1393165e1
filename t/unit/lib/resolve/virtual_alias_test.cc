// Resolver step 1: virtual_alias_maps, recursion, loops, limits.
#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/maps/builder.h"
#include "t/unit/lib/resolve/resolve_test_util.h"

using namespace posthorn;
using namespace posthorn::resolve;
using namespace posthorn::resolve::test;

namespace {

// A Resolver whose virtual_alias_maps is one texthash table with `entries`.
struct Aliases {
  TempDir dir;
  Resolver r;
  Aliases(std::string_view entries, const std::string& extra = "")
      : r(resolver_of("virtual_alias_maps = texthash:" + dir.file("virtual", entries) + "\n" +
                      extra)) {}
  std::string operator()(std::string_view rcpt) const { return recipients(r, rcpt); }
};

}  // namespace

TEST_CASE("virtual: one address to one or several", "[resolve][virtual]") {
  Aliases a("one@a.example      two@b.example\n"
            "list@a.example     x@b.example, y@c.example  z@d.example\n"
            "angle@a.example    <x@b.example>,<y@c.example>\n"
            "bare@a.example     joe\n"
            "quoted@a.example   \"john doe\"@b.example\n");
  CHECK(a("one@a.example") == "two@b.example");
  CHECK(a("ONE@A.example") == "two@b.example");
  CHECK(a("list@a.example") == "x@b.example, y@c.example, z@d.example");
  CHECK(a("angle@a.example") == "x@b.example, y@c.example");
  CHECK(a("bare@a.example") == "joe@mx.example.org");  // @myorigin
  CHECK(a("quoted@a.example") == "\"john doe\"@b.example");
  CHECK(a("other@a.example") == "other@a.example");
  // Each final recipient is routed by its own domain; the first address is
  // the one that came in, which an agent logs as orig_to.
  CHECK(show(a.r, "list@a.example") ==
        "x@b.example smtp:b.example default; y@c.example smtp:c.example default; "
        "z@d.example smtp:d.example default");
  CHECK(show(a.r, "bare@a.example") == "joe@mx.example.org local:mx.example.org local");
}

TEST_CASE("virtual: Postfix's search order", "[resolve][virtual]") {
  const std::string table =
      "user+ext@v.example  full@r.example\n"
      "user@v.example      stripped@r.example\n"
      "local+ext           bare-full@r.example\n"
      "local               bare@r.example\n"
      "@v.example          catchall@r.example\n";
  Aliases a(table, "recipient_delimiter = +\npropagate_unmatched_extensions =\n");
  CHECK(a("user+ext@v.example") == "full@r.example");
  CHECK(a("user+other@v.example") == "stripped@r.example");
  CHECK(a("user@v.example") == "stripped@r.example");
  CHECK(a("anyone@v.example") == "catchall@r.example");
  // Bare user keys: only for $myorigin, $mydestination and our literals.
  CHECK(a("local+ext@mx.example.org") == "bare-full@r.example");
  CHECK(a("local+x@localhost") == "bare@r.example");
  CHECK(a("local@[127.0.0.1]") == "bare@r.example");
  CHECK(a("local@elsewhere.example") == "local@elsewhere.example");
  CHECK(a("local") == "bare@r.example");  // unqualified: @myorigin

  Aliases o(table, "myorigin = v2.example\n");
  CHECK(o("local@v2.example") == "bare@r.example");
}

TEST_CASE("virtual: each key form goes through every table first", "[resolve][virtual]") {
  TempDir d;
  std::string first = "texthash:" + d.file("first", "@v.example  catchall@r.example\n");
  std::string second = "texthash:" + d.file("second", "joe@v.example  joe@r.example\n");
  Resolver r = resolver_of("virtual_alias_maps = " + first + " " + second + "\n");
  CHECK(recipients(r, "joe@v.example") == "joe@r.example");
  CHECK(recipients(r, "ann@v.example") == "catchall@r.example");
}

TEST_CASE("virtual: extensions propagate when the key left them out", "[resolve][virtual]") {
  const std::string table = "user@v.example  bob@r.example, carol@s.example\n"
                            "user+keep@v.example  kept@r.example\n"
                            "dash@v.example  dan@r.example\n";
  Aliases a(table, "recipient_delimiter = +-\n");
  CHECK(a("user+foo@v.example") == "bob+foo@r.example, carol+foo@s.example");
  CHECK(a("user+keep@v.example") == "kept@r.example");
  CHECK(a("user@v.example") == "bob@r.example, carol@s.example");
  CHECK(a("dash-x@v.example") == "dan-x@r.example");  // the delimiter that was used

  Aliases off(table, "recipient_delimiter = +\npropagate_unmatched_extensions = canonical\n");
  CHECK(off("user+foo@v.example") == "bob@r.example, carol@s.example");

  // A result whose local part would grow past 64 octets keeps its own.
  Aliases longer("user@v.example " + std::string(60, 'a') + "@r.example\n",
                 "recipient_delimiter = +\n");
  CHECK(longer("user+extension@v.example") == std::string(60, 'a') + "@r.example");
}

TEST_CASE("virtual: regexp tables rewrite the whole address", "[resolve][virtual]") {
  TempDir d;
  std::string re = "regexp:" + d.file("re", "/^(.*)@old\\.example$/  ${1}@new.example\n"
                                            "/^(.*)@.*\\.old\\.example$/  ${1}-sub@new.example\n");
  Resolver r = resolver_of("virtual_alias_maps = " + re + "\nrecipient_delimiter = +\n");
  CHECK(recipients(r, "joe@old.example") == "joe@new.example");
  CHECK(recipients(r, "joe+x@old.example") == "joe+x@new.example");
  CHECK(recipients(r, "joe@a.old.example") == "joe-sub@new.example");
  CHECK(recipients(r, "joe@other.example") == "joe@other.example");
}

TEST_CASE("virtual: recursion, self-mapping, duplicates", "[resolve][virtual]") {
  Aliases a("a@x.example  b@x.example\n"
            "b@x.example  c@x.example\n"
            "self@x.example  self@x.example, other@y.example\n"
            "dup@x.example  c@y.example, c@y.example, d@y.example, c@y.example\n"
            "twice@x.example  b@x.example, c@x.example\n"
            "selfref@x.example  selfref@x.example, back@x.example\n"
            "back@x.example  selfref@x.example\n"
            "upper@x.example  UPPER@X.example, more@y.example\n");
  CHECK(a("a@x.example") == "c@x.example");
  CHECK(a("self@x.example") == "self@x.example, other@y.example");
  CHECK(a("dup@x.example") == "c@y.example, d@y.example");
  CHECK(a("twice@x.example") == "c@x.example");
  // back leads to an address already known to map to itself: no loop.
  CHECK(a("selfref@x.example") == "selfref@x.example");
  // A self-mapping compares addresses as the tables do, ignoring case.
  CHECK(a("upper@x.example") == "UPPER@x.example, more@y.example");
}

TEST_CASE("virtual: a loop defers with 4.3.0", "[resolve][virtual]") {
  Aliases a("a@x.example  b@x.example\n"
            "b@x.example  a@x.example\n"
            "p@x.example  q@x.example, r@y.example\n"
            "q@x.example  s@x.example\n"
            "s@x.example  p@x.example\n");
  Resolution res = a.r.resolve("a@x.example");
  CHECK(show(res) == "FAIL 4.3.0 Virtual alias loop");
  CHECK(res.temporary);
  CHECK(res.detail == "virtual alias loop: a@x.example -> b@x.example -> a@x.example");
  Resolution longer = a.r.resolve("p@x.example");
  CHECK(longer.failed);
  CHECK(longer.detail ==
        "virtual alias loop: p@x.example -> q@x.example -> s@x.example -> p@x.example");
  // Entering the loop from outside is the same loop.
  Aliases b("in@x.example  a@x.example\na@x.example  b@x.example\nb@x.example  a@x.example\n");
  CHECK(b("in@x.example") == "FAIL 4.3.0 Virtual alias loop");
}

TEST_CASE("virtual: the recursion limit", "[resolve][virtual]") {
  const std::string chain = "a@x.example  b@x.example\nb@x.example  c@x.example\n"
                            "c@x.example  d@x.example\n";
  Aliases three(chain, "virtual_alias_recursion_limit = 3\n");
  CHECK(three("a@x.example") == "d@x.example");
  Aliases two(chain, "virtual_alias_recursion_limit = 2\n");
  Resolution res = two.r.resolve("a@x.example");
  CHECK(show(res) == "FAIL 4.3.0 Virtual alias table recursion limit exceeded");
  CHECK_THAT(res.detail, Catch::StartsWith("virtual_alias_recursion_limit 2 exceeded: "
                                           "a@x.example -> b@x.example -> c@x.example"));
  CHECK(two("b@x.example") == "d@x.example");
}

TEST_CASE("virtual: the expansion limit", "[resolve][virtual]") {
  Aliases a("three@x.example  a@y.example b@y.example c@y.example\n"
            "four@x.example   a@y.example b@y.example c@y.example d@y.example\n"
            "nest@x.example   n1@x.example, n2@y.example\n"
            "n1@x.example     a@y.example b@y.example c@y.example\n",
            "virtual_alias_expansion_limit = 3\n");
  CHECK(a("three@x.example") == "a@y.example, b@y.example, c@y.example");
  CHECK(a("four@x.example") == "FAIL 4.3.0 Virtual alias table expansion limit exceeded");
  // n2 is still pending while n1 grows into three: four at once.
  CHECK(a("nest@x.example") == "FAIL 4.3.0 Virtual alias table expansion limit exceeded");
  Resolution res = a.r.resolve("four@x.example");
  CHECK(res.detail == "virtual_alias_expansion_limit 3 exceeded by four@x.example");
}

TEST_CASE("virtual: alias domains", "[resolve][virtual]") {
  Aliases a("va.example       this-text-is-not-used\n"
            "known@va.example  joe@r.example\n"
            "back@va.example   unknown@va.example\n"
            "self@va.example   self@va.example\n");
  CHECK(show(a.r, "known@va.example") == "joe@r.example smtp:r.example default");
  CHECK(show(a.r, "unknown@va.example") ==
        "unknown@va.example error:5.1.1 User unknown in virtual alias table virtual alias");
  CHECK(show(a.r, "back@va.example") ==
        "unknown@va.example error:5.1.1 User unknown in virtual alias table virtual alias");
  // A virtual alias domain has no mailboxes: mapping to oneself bounces.
  CHECK(show(a.r, "self@va.example") ==
        "self@va.example error:5.1.1 User unknown in virtual alias table virtual alias");
  Resolution res = a.r.resolve("unknown@va.example");
  CHECK(special_status(res.destinations[0]) ==
        Status{"5.1.1", "User unknown in virtual alias table"});
}

TEST_CASE("virtual: unusable values defer with 4.3.5", "[resolve][virtual]") {
  Aliases a("open@x.example   \"unterminated@y.example\n"
            "bad@x.example    good@y.example, bad@-y.example\n"
            "angle@x.example  <a@y.example\n");
  for (std::string_view rcpt : {"open@x.example", "bad@x.example", "angle@x.example"}) {
    INFO(rcpt);
    Resolution res = a.r.resolve(rcpt);
    CHECK(show(res) == "FAIL 4.3.5 Mail system configuration error");
    CHECK_THAT(res.detail, Catch::StartsWith("virtual_alias_maps: texthash:"));
  }
  CHECK_THAT(a.r.resolve("bad@x.example").detail, Catch::Contains("\"bad@-y.example\""));
}

TEST_CASE("virtual: inline, hash and lmdb tables", "[resolve][virtual]") {
  Resolver in = resolver_of("virtual_alias_maps = inline:{ {a@x.example = b@y.example, c@y.example} }\n");
  CHECK(recipients(in, "a@x.example") == "b@y.example, c@y.example");

  TempDir d;
  std::vector<std::string> types{"lmdb"};
#ifndef POSTHORN_WITHOUT_BDB
  types.push_back("hash");
#endif
  for (const std::string& type : types) {
    INFO(type);
    std::string base = (d.path() / ("virtual-" + type)).string();
    REQUIRE(write_file_durable(base, "Sales@X.example  ann@y.example, bob@y.example\n"
                                     "ann@y.example  ann@z.example\n"));
    REQUIRE(maps::build_from_source(type + ":" + base, maps::SourceFormat::map));
    Resolver r = resolver_of("virtual_alias_maps = " + type + ":" + base + "\n");
    CHECK(recipients(r, "sales@x.example") == "ann@z.example, bob@y.example");
  }
}

TEST_CASE("virtual: bare postmaster stays local unless aliased", "[resolve][virtual]") {
  Aliases a("postmaster@example.com  admin@r.example\n", "myorigin = example.com\n");
  CHECK(show(a.r, "postmaster") == "admin@r.example smtp:r.example default");
  Aliases b("someone@x.example  other@r.example\n", "myorigin = example.com\n");
  CHECK(show(b.r, "postmaster") == "postmaster@example.com local:mx.example.org local");
}

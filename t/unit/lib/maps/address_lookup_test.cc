#include "lib/maps/address_lookup.h"

#include <catch2/catch.hpp>

#include "lib/base/strings.h"
#include "lib/maps/table.h"

using namespace posthorn;
using namespace posthorn::maps;

namespace {
AddressLookup local_example(std::string delim) {
  return {std::move(delim), [](std::string_view d) { return d == "example.org"; }};
}
}  // namespace

TEST_CASE("address key forms in Postfix's order", "[maps][address]") {
  using V = std::vector<std::string>;
  struct Case {
    std::string address;
    std::string delimiter;
    V want;
  };
  const Case cases[] = {
      {"user+ext@example.org", "+", V{"user+ext@example.org", "user@example.org", "user+ext",
                                      "user", "@example.org"}},
      {"user@example.org", "+", V{"user@example.org", "user", "@example.org"}},
      {"user+ext@remote.net", "+", V{"user+ext@remote.net", "user@remote.net", "@remote.net"}},
      {"user+ext@example.org", "", V{"user+ext@example.org", "user+ext", "@example.org"}},
      {"user-ext@example.org", "+-", V{"user-ext@example.org", "user@example.org", "user-ext",
                                       "user", "@example.org"}},
      {"user+a-b@example.org", "+-", V{"user+a-b@example.org", "user@example.org", "user+a-b",
                                       "user", "@example.org"}},
      {"+ext@example.org", "+", V{"+ext@example.org", "+ext", "@example.org"}},
      {"user+ext", "+", V{"user+ext", "user"}},
      {"user", "+", V{"user"}},
      {"\"a@b\"@example.org", "+", V{"\"a@b\"@example.org", "\"a@b\"", "@example.org"}},
      {"user@", "+", V{"user@"}},  // an empty domain is not local
      {"@example.org", "+", V{"@example.org"}},
  };
  for (const Case& c : cases) {
    INFO(c.address << " delimiter " << c.delimiter);
    CHECK(address_keys(c.address, local_example(c.delimiter)) == c.want);
  }
  CHECK(address_keys("user+ext@example.org", local_example("+"), true) ==
        V{"user+ext@example.org"});
  CHECK(address_keys("user@example.org", AddressLookup{}) == V{"user@example.org", "@example.org"});
}

TEST_CASE("lookup_address returns the first form found and the dropped extension",
          "[maps][address]") {
  auto t = open_table(
      "inline:{user@example.org=exact, user=bare, @example.org=catchall, joe+list=ext-form,"
      "@remote.net=remote}");
  REQUIRE(t);
  struct Case {
    std::string address;
    std::string value, key, extension;
  };
  const Case cases[] = {
      {"user+foo@example.org", "exact", "user@example.org", "foo"},
      {"User@Example.org", "exact", "user@example.org", ""},
      {"joe+list@example.org", "ext-form", "joe+list", ""},
      {"joe+other@example.org", "catchall", "@example.org", ""},
      {"user+x@remote.net", "remote", "@remote.net", ""},
      {"user+y", "bare", "user", "y"},
  };
  for (const Case& c : cases) {
    INFO(c.address);
    auto r = lookup_address(**t, c.address, local_example("+"));
    REQUIRE(r);
    REQUIRE(*r);
    CHECK((*r)->value == c.value);
    CHECK(to_lower((*r)->key) == c.key);
    CHECK((*r)->extension == c.extension);
  }
  auto none = lookup_address(**t, "x@elsewhere.com", local_example("+"));
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("lookup_address: pattern tables see the whole address", "[maps][address]") {
  auto t = open_table("static:everyone");
  REQUIRE(t);
  auto r = lookup_address(**t, "a+b@example.org", local_example("+"));
  REQUIRE(r);
  REQUIRE(*r);
  CHECK((*r)->key == "a+b@example.org");
  CHECK((*r)->extension.empty());
}

TEST_CASE("lookup_address passes table errors on", "[maps][address]") {
  auto t = open_table("inline:{a=b}");
  REQUIRE(t);
  auto r = lookup_address(**t, std::string("a\0b@example.org", 15), local_example("+"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid);
}

TEST_CASE("lookup_domain: exact, then parents in the chosen style", "[maps][address]") {
  auto t = open_table("inline:{example.org=exact, .example.org=dot, net=bare-net}");
  REQUIRE(t);
  struct Case {
    std::string domain;
    ParentStyle style;
    std::string key;  // "" = not found
  };
  const Case cases[] = {
      {"example.org", ParentStyle::dot, "example.org"},
      {"a.b.example.org", ParentStyle::dot, ".example.org"},
      {"a.b.example.org", ParentStyle::bare, "example.org"},
      {"mail.example.net", ParentStyle::bare, "net"},
      {"mail.example.net", ParentStyle::dot, ""},
      {"EXAMPLE.ORG", ParentStyle::dot, "EXAMPLE.ORG"},
      {"trailing.", ParentStyle::dot, ""},
      {"", ParentStyle::bare, ""},
  };
  for (const Case& c : cases) {
    INFO(c.domain);
    auto r = lookup_domain(**t, c.domain, c.style);
    REQUIRE(r);
    if (c.key.empty()) {
      CHECK_FALSE(*r);
    } else {
      REQUIRE(*r);
      CHECK((*r)->key == c.key);
    }
  }
}

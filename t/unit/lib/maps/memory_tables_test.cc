// inline:, static: and texthash: tables.
#include <catch2/catch.hpp>

#include "lib/maps/table.h"
#include "t/unit/lib/maps/maps_test_util.h"

using namespace posthorn;
using namespace posthorn::maps;
using posthorn::maps::test::get;
using posthorn::maps::test::TempDir;

TEST_CASE("inline: found, not found, case folding, braces", "[maps][inline]") {
  auto t = open_table("inline:{ Key1=value1, key2=x,{ key3 = text with spaces, and comma },"
                      "k4=a=b }");
  REQUIRE(t);
  CHECK(get(**t, "key1") == "value1");
  CHECK(get(**t, "KEY1") == "value1");
  CHECK(get(**t, "key2") == "x");
  CHECK(get(**t, "key3") == "text with spaces, and comma");
  CHECK(get(**t, "k4") == "a=b");
  CHECK(get(**t, "nope") == "<none>");
}

TEST_CASE("inline: case-sensitive when asked", "[maps][inline]") {
  auto t = open_table("inline:{Key=v}", OpenOptions{true});
  REQUIRE(t);
  CHECK(get(**t, "Key") == "v");
  CHECK(get(**t, "key") == "<none>");
}

TEST_CASE("inline: empty table and empty values", "[maps][inline]") {
  auto t = open_table("inline:{}");
  REQUIRE(t);
  CHECK(get(**t, "a") == "<none>");
  auto e = open_table("inline:{a=}");
  REQUIRE(e);
  CHECK(get(**e, "a") == "");
}

TEST_CASE("inline: malformed specs are errors naming the table", "[maps][inline]") {
  for (std::string bad :
       {"inline:", "inline:a=b", "inline:{a=b", "inline:{a=b}}", "inline:{a=b} x", "inline:{=b}",
        "inline:{a}", "inline:{a=b, a=c}", "inline:{{a=b}", "inline:{ { = x } }", "inline:{a=b}{"}) {
    auto r = open_table(bad);
    CHECK_FALSE(r);
    if (!r) {
      CHECK(r.error().code == Errc::parse);
      CHECK(r.error().detail.find("table \"inline:") == 0);
    }
  }
}

TEST_CASE("static: every key finds the value", "[maps][static]") {
  auto t = open_table("static:OK");
  REQUIRE(t);
  CHECK(get(**t, "anything") == "OK");
  CHECK(get(**t, "") == "OK");
  CHECK((*t)->is_pattern());
  auto sp = open_table("static:{ text with spaces }");
  REQUIRE(sp);
  CHECK(get(**sp, "x") == "text with spaces");
  auto empty = open_table("static:");
  REQUIRE(empty);
  CHECK(get(**empty, "x") == "");
  auto lst = open_table("static:a,b");
  REQUIRE(lst);
  CHECK(get(**lst, "x") == "a,b");
}

TEST_CASE("static: malformed specs are errors", "[maps][static]") {
  for (std::string bad : {"static:{open", "static:{a} b", "static:{a}}"}) {
    auto r = open_table(bad);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code == Errc::parse);
  }
}

TEST_CASE("texthash: reads postmap's source format", "[maps][texthash]") {
  TempDir d;
  std::string f = d.file("virtual", "# comment\nJoe@Example.org joe\nlist@example.org a,\n  b\n"
                                    "bad\njoe@example.org second\n");
  auto t = open_table("texthash:" + f);
  REQUIRE(t);
  CHECK(get(**t, "joe@example.org") == "joe");
  CHECK(get(**t, "JOE@EXAMPLE.ORG") == "joe");
  CHECK(get(**t, "list@example.org") == "a,  b");
  CHECK(get(**t, "bad") == "<none>");
  CHECK(get(**t, "other") == "<none>");
  const auto& w = (*t)->warnings();
  REQUIRE(w.size() == 2);
  CHECK(w[0].str() == f + ", line 5: expected format: key whitespace value");
  CHECK(w[1].str() == f + ", line 6: duplicate entry: \"joe@example.org\"");
  std::vector<std::string> keys;
  REQUIRE((*t)->for_each([&](std::string_view k, std::string_view) { keys.emplace_back(k); }));
  CHECK(keys == std::vector<std::string>{"joe@example.org", "list@example.org"});
}

TEST_CASE("texthash: case-sensitive when asked; NUL in a key is refused", "[maps][texthash]") {
  TempDir d;
  std::string f = d.file("t", "Key v\n");
  auto t = open_table("texthash:" + f, OpenOptions{true});
  REQUIRE(t);
  CHECK(get(**t, "Key") == "v");
  CHECK(get(**t, "key") == "<none>");
  auto r = (*t)->lookup(std::string("Key\0x", 5));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid);
}

#include <catch2/catch.hpp>

#include "lib/maps/table.h"

using namespace posthorn;
using namespace posthorn::maps;

TEST_CASE("unix:passwd.byname answers with the passwd entry", "[maps][unix]") {
  auto t = open_table("unix:passwd.byname");
  REQUIRE(t);
  auto root = (*t)->lookup("ROOT");  // keys fold to lower case
  REQUIRE(root);
  REQUIRE(*root);
  CHECK((*root)->rfind("root:", 0) == 0);
  CHECK((*root)->find(":0:0:") != std::string::npos);
  auto none = (*t)->lookup("no-such-user-posthorn");
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("unix:group.byname answers with the group entry", "[maps][unix]") {
  auto t = open_table("unix:group.byname");
  REQUIRE(t);
  auto root = (*t)->lookup("root");
  REQUIRE(root);
  REQUIRE(*root);
  CHECK((*root)->rfind("root:", 0) == 0);
  CHECK((*root)->find(":0:") != std::string::npos);
}

TEST_CASE("unix: refuses other maps and NUL in keys", "[maps][unix]") {
  auto bad = open_table("unix:hosts.byname");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid);
  CHECK(bad.error().detail.find("passwd.byname") != std::string::npos);
  auto t = open_table("unix:passwd.byname");
  REQUIRE(t);
  CHECK_FALSE((*t)->lookup(std::string("root\0x", 6)));
}

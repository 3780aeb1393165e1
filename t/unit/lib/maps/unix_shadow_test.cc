// unix:shadow (lib/maps/unix_table.cc): the password field of a shadow entry.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/maps/table.h"

using namespace posthorn;
using namespace posthorn::maps;

TEST_CASE("unix:shadow answers with the password field, or refuses to guess", "[maps][unix]") {
  auto t = open_table("unix:shadow");
  REQUIRE(t);
  auto root = (*t)->lookup("root");
  if (::geteuid() == 0) {
    REQUIRE(root);
    REQUIRE(*root);
    // A hash, a lock mark or empty: never the whole "root:...:..." line.
    CHECK((*root)->find(':') == std::string::npos);
    auto none = (*t)->lookup("no-such-user-posthorn");
    REQUIRE(none);
    CHECK_FALSE(*none);
  } else {
    // /etc/shadow is unreadable: an error, not "no such user".
    CHECK_FALSE(root);
  }
  CHECK_FALSE((*t)->lookup(std::string("root\0x", 6)));
  auto bad = open_table("unix:shadow.byname");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail.find("shadow") != std::string::npos);
}

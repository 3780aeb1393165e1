#include "lib/base/options.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using V = std::vector<std::string>;

TEST_CASE("options: grouped, attached and separate values", "[base][options]") {
  auto r = parse_options(V{"-nd", "-cDIR", "name", "-c", "OTHER", "x"}, "c:nd");
  REQUIRE(r.error.empty());
  CHECK(r.has('n'));
  CHECK(r.has('d'));
  CHECK(r.value('c') == "OTHER");
  CHECK(r.operands == V{"name", "x"});
}

TEST_CASE("options: without permutation the first operand ends options", "[base][options]") {
  auto r = parse_options(V{"-c", "D", "conf", "-n"}, "c:", false);
  REQUIRE(r.error.empty());
  CHECK(r.value('c') == "D");
  CHECK(r.operands == V{"conf", "-n"});
}

TEST_CASE("options: errors and the end marker", "[base][options]") {
  CHECK(parse_options(V{"-x"}, "c:n").error == "unknown option -x");
  CHECK(parse_options(V{"-c"}, "c:n").error == "option -c needs a value");
  CHECK(parse_options(V{"-:"}, "c:n").error == "unknown option -:");
  auto r = parse_options(V{"--", "-n", "-"}, "n");
  CHECK_FALSE(r.has('n'));
  CHECK(r.operands == V{"-n", "-"});
}

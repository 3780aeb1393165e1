#include "lib/base/strings.h"

#include <catch2/catch.hpp>

using namespace posthorn;

TEST_CASE("trim, lower and case-insensitive comparison", "[base][strings]") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim("") == "");
  CHECK(trim(" \t ") == "");
  CHECK(to_lower("MiXeD-ÄB") == "mixed-Äb");
  CHECK(iequals("Example.ORG", "example.org"));
  CHECK_FALSE(iequals("example.org", "example.or"));
  CHECK(istarts_with("MAIL FROM:<>", "mail from:"));
  CHECK_FALSE(istarts_with("MAIL", "mail from:"));
}

TEST_CASE("split_fields drops empty fields, split keeps them", "[base][strings]") {
  CHECK(split_fields("a, b,,c ", ", ") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split_fields("", ", ").empty());
  CHECK(split_fields(",,,", ",").empty());
  CHECK(split("a::b", ':') == std::vector<std::string>{"a", "", "b"});
  CHECK(split("", ':') == std::vector<std::string>{""});
  CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
}

TEST_CASE("parse_uint accepts only whole decimal numbers that fit", "[base][strings]") {
  struct Case { const char* in; bool ok; unsigned long long v; };
  const Case cases[] = {
      {"0", true, 0}, {"42", true, 42}, {"18446744073709551615", true, 18446744073709551615ull},
      {"18446744073709551616", false, 0}, {"", false, 0}, {"-1", false, 0}, {"1x", false, 0},
      {" 1", false, 0}, {"99999999999999999999999", false, 0},
  };
  for (const auto& c : cases) {
    unsigned long long v = 7;
    INFO(c.in);
    CHECK(parse_uint(c.in, v) == c.ok);
    if (c.ok) CHECK(v == c.v);
  }
}

TEST_CASE("printable escapes control and non-ASCII bytes", "[base][strings]") {
  CHECK(printable("plain text") == "plain text");
  CHECK(printable("a\r\nb") == "a\\015\\012b");
  CHECK(printable("back\\slash") == "back\\\\slash");
  CHECK(printable(std::string("nul\0x", 5)) == "nul\\000x");
  CHECK(printable("\xc3\xa9") == "\\303\\251");
}

TEST_CASE("cat concatenates streamable values", "[base][strings]") {
  CHECK(cat("a=", 1, ", b=", std::string("x"), ' ', 2.5) == "a=1, b=x 2.5");
}

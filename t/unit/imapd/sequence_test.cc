// Tests for imapd/sequence.h.
#include "imapd/sequence.h"

#include <catch2/catch.hpp>

#include <string>

using namespace posthorn::imapd;

namespace {

std::string resolved(std::string_view text, std::uint32_t star) {
  auto s = SequenceSet::parse(text);
  if (!s) return "error";
  std::string out;
  for (SeqRange r : s->resolve(star))
    out += (out.empty() ? "" : ",") + std::to_string(r.lo) + ":" + std::to_string(r.hi);
  return out;
}

}  // namespace

TEST_CASE("sequence sets parse and resolve", "[imapd][sequence]") {
  CHECK(resolved("1", 10) == "1:1");
  CHECK(resolved("1:3,5", 10) == "1:3,5:5");
  CHECK(resolved("5:3", 10) == "3:5");
  CHECK(resolved("*", 10) == "10:10");
  CHECK(resolved("5:*", 3) == "3:5");  // RFC 3501: the range's order does not matter
  CHECK(resolved("3:4,1:2,4:9,20", 30) == "1:9,20:20");
  CHECK(resolved("4294967295", 0) == "4294967295:4294967295");
  // "*" in an empty mailbox.
  CHECK(resolved("*", 0).empty());
  CHECK(resolved("*:*", 0).empty());
  CHECK(resolved("1:*", 0) == "1:1");
}

TEST_CASE("sequence sets refuse what RFC 3501 does not allow", "[imapd][sequence]") {
  for (const char* bad : {"", "0", "0:5", "4294967296", "99999999999", "1:2:3", "1,", ",1", "a",
                          "01", "1:", ":1", "$", "1 2", "-1"}) {
    INFO(bad);
    CHECK_FALSE(SequenceSet::parse(bad));
  }
  auto s = SequenceSet::parse("7,2:*");
  REQUIRE(s);
  CHECK(s->uses_star());
  CHECK(s->largest() == 7);
}

TEST_CASE("sequence sets: membership and formatting", "[imapd][sequence]") {
  auto r = SequenceSet::parse("2:4,8,10:12")->resolve(20);
  CHECK_FALSE(contains(r, 1));
  CHECK(contains(r, 2));
  CHECK(contains(r, 4));
  CHECK_FALSE(contains(r, 5));
  CHECK(contains(r, 8));
  CHECK(contains(r, 11));
  CHECK_FALSE(contains(r, 13));
  CHECK(format_set({1, 2, 3, 5, 7, 8}) == "1:3,5,7:8");
  CHECK(format_set({}).empty());
}

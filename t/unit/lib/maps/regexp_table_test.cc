#include <catch2/catch.hpp>

#include "lib/maps/table.h"
#include "t/unit/lib/maps/maps_test_util.h"

using namespace posthorn;
using namespace posthorn::maps;
using posthorn::maps::test::get;
using posthorn::maps::test::TempDir;

namespace {
Result<std::unique_ptr<Table>> regexp(TempDir& d, std::string_view text) {
  return open_table("regexp:" + d.file("re", text));
}
}  // namespace

TEST_CASE("regexp: match, no match, case-insensitive by default", "[maps][regexp]") {
  TempDir d;
  auto t = regexp(d, "# access\n/^spam@/ REJECT\n/^Exact@/i OK\n/^x$/ X value  \n");
  REQUIRE(t);
  CHECK(get(**t, "spam@example.org") == "REJECT");
  CHECK(get(**t, "SPAM@example.org") == "REJECT");
  CHECK(get(**t, "Exact@host") == "OK");
  CHECK(get(**t, "exact@host") == "<none>");
  CHECK(get(**t, "x") == "X value");
  CHECK(get(**t, "ham@example.org") == "<none>");
  CHECK((*t)->is_pattern());
}

TEST_CASE("regexp: $n substitution keeps the key's case", "[maps][regexp]") {
  TempDir d;
  auto t = regexp(d, "/^(.*)-(outgoing)@(.*)$/ ${1}@$3 ($2) $$5\n/^(a)|(b)$/ [$1][$2]\n");
  REQUIRE(t);
  CHECK(get(**t, "Joe-outgoing@Example.org") == "Joe@Example.org (outgoing) $5");
  CHECK(get(**t, "b") == "[][b]");  // an unmatched group gives nothing
}

TEST_CASE("regexp: negation, exceptions, first match wins", "[maps][regexp]") {
  TempDir d;
  auto t = regexp(d, "!/@example\\.org$/ foreign\n/^a/!/^ab/ a-not-ab\n/^/ fallback\n");
  REQUIRE(t);
  CHECK(get(**t, "x@other.net") == "foreign");
  CHECK(get(**t, "ac@example.org") == "a-not-ab");
  CHECK(get(**t, "ab@example.org") == "fallback");
}

TEST_CASE("regexp: if/endif blocks, nested and negated", "[maps][regexp]") {
  TempDir d;
  auto t = regexp(d,
                  "if /@example\\.org$/\n"
                  "  # comment inside\n"
                  "/^postmaster@/ pm\n"
                  "if !/^a/\n"
                  "/^b/ b-in-example\n"
                  "endif\n"
                  "/^a/ a-in-example\n"
                  "endif\n"
                  "/^b/ b-elsewhere\n");
  REQUIRE(t);
  CHECK(get(**t, "postmaster@example.org") == "pm");
  CHECK(get(**t, "postmaster@other.org") == "<none>");
  CHECK(get(**t, "b@example.org") == "b-in-example");
  CHECK(get(**t, "a@example.org") == "a-in-example");
  CHECK(get(**t, "b@other.org") == "b-elsewhere");
}

TEST_CASE("regexp: flags x (basic syntax) and m (multi-line)", "[maps][regexp]") {
  TempDir d;
  auto t = regexp(d, "/^a+$/x basic\n/^line2$/m multi\n/^a\\{2\\}b$/x braces\n");
  REQUIRE(t);
  CHECK(get(**t, "a+") == "basic");  // '+' is literal in basic syntax
  CHECK(get(**t, "aa") == "<none>");
  CHECK(get(**t, "line1\nline2") == "multi");
  CHECK(get(**t, "aab") == "braces");
}

TEST_CASE("regexp: other delimiters, escaped delimiters, continuation", "[maps][regexp]") {
  TempDir d;
  auto t = regexp(d, "|^/usr/|  usr\n/a\\/b/ slash\n/^long$/ part one\n   part two\n");
  REQUIRE(t);
  CHECK(get(**t, "/usr/bin") == "usr");
  CHECK(get(**t, "xa/by") == "slash");
  CHECK(get(**t, "long") == "part one   part two");
}

TEST_CASE("regexp: every error names the file and line", "[maps][regexp]") {
  struct Case {
    std::string text;
    int line;
    std::string why;
  };
  const Case cases[] = {
      {"/ok/ x\n/a(/ bad\n", 2, "bad regular expression"},
      {"/a/q x\n", 1, "unknown regexp flag 'q'"},
      {"/a/\n", 1, "missing result"},
      {"/abc x\n", 1, "missing closing '/'"},
      {"abc x\n", 1, "delimiter"},
      {"/a/ $1\n", 1, "$1 but the pattern has 0 group(s)"},
      {"!/(a)/ $1\n", 1, "negated"},
      {"/(a)/ $\n", 1, "'$' at the end"},
      {"/(a)/ $x\n", 1, "'$' must be followed"},
      {"/(a)/ ${0}\n", 1, "bad ${number}"},
      {"/a/junk\n", 1, "unknown regexp flag 'j'"},
      {"/a/i\"x\n", 1, "expected whitespace"},
      {"x\nendif\n", 1, "delimiter"},
      {"/a/ b\nendif\n", 2, "endif without if"},
      {"if /a/\n/b/ c\n", 1, "if without endif"},
      {"if /a/ text\nendif\n", 1, "unexpected text"},
      {"  /a/ b\n", 1, "continuation line"},
  };
  for (const Case& c : cases) {
    TempDir d;
    auto t = regexp(d, c.text);
    REQUIRE_FALSE(t);
    CHECK(t.error().code == Errc::parse);
    std::string want = (d.path() / "re").string() + ", line " + std::to_string(c.line) + ": ";
    INFO(c.text << " -> " << t.error().detail);
    CHECK(t.error().detail.find(want) == 0);
    CHECK(t.error().detail.find(c.why) != std::string::npos);
  }
}

TEST_CASE("regexp: adversarial lines are errors or rules, never crashes", "[maps][regexp]") {
  const std::string lines[] = {"/", "//", "// x", "!", "!/", "!!/a/ x", "/a/!", "/a/!/ x",
                               "/a/!/b", "if", "if /", "endif x", "/\\", "/(((((((((((a)))))))))))/ $9",
                               std::string("/a\0b/ x", 7), "/[[:alpha:]/ x", "/a{99999}/ x"};
  for (const std::string& l : lines) {
    TempDir d;
    auto t = regexp(d, l + "\n");
    if (t) CHECK(get(**t, "aaa") != "<error>");
  }
}

#include "lib/config/syntax.h"

#include <catch2/catch.hpp>

using namespace posthorn::config;

TEST_CASE("logical lines: continuation, comments, blank lines, CRLF", "[config][syntax]") {
  const std::string text =
      "# comment\n"
      "a = 1\n"
      "  2\n"
      "\t3\r\n"
      "\n"
      "   # an indented comment is ignored, not a continuation\n"
      "    4\n"
      "b=x # not a comment\n"
      "c = last";
  auto lines = logical_lines(text);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].text == "a = 1 2 3 4");
  CHECK(lines[0].first_line == 2);
  CHECK(lines[0].last_line == 7);
  CHECK(text.substr(lines[0].begin, lines[0].end - lines[0].begin).find("a = 1") == 0);
  CHECK(text.substr(lines[0].end, 3) == "b=x");
  CHECK(lines[1].text == "b=x # not a comment");
  CHECK(lines[1].first_line == 8);
  CHECK(lines[2].text == "c = last");
  CHECK(lines[2].end == text.size());
  CHECK(logical_lines("").empty());
  CHECK(logical_lines("\n\n# x\n  \n").empty());
  auto orphan = logical_lines("  leading\nname = v\n");
  REQUIRE(orphan.size() == 2);
  CHECK(orphan[0].orphan);
  CHECK_FALSE(orphan[1].orphan);
}

TEST_CASE("main.cf: good lines", "[config][syntax]") {
  struct Case { const char* text; const char* name; const char* value; };
  const Case cases[] = {
      {"a = b", "a", "b"},
      {"a=b", "a", "b"},
      {"a =", "a", ""},
      {"a   =   b c  ", "a", "b c"},
      {"a = b = c", "a", "b = c"},
      {"a = b\n  c\n\td", "a", "b c d"},
      {"a = x # y", "a", "x # y"},
      {"smtpd_tls_CAfile = /etc/ssl/ca.pem\r\n", "smtpd_tls_CAfile", "/etc/ssl/ca.pem"},
      {"a = \xc3\xa4\xc3\xb6", "a", "\xc3\xa4\xc3\xb6"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    MainCf cf = parse_main_cf(c.text, "main.cf");
    CHECK(cf.errors.empty());
    REQUIRE(cf.settings.size() == 1);
    CHECK(cf.settings[0].name == c.name);
    CHECK(cf.settings[0].value == c.value);
    CHECK(cf.settings[0].line == 1);
  }
}

TEST_CASE("main.cf: bad lines are errors with file and line", "[config][syntax]") {
  struct Case { const char* text; const char* error; };
  const Case cases[] = {
      {"no equals sign", "main.cf:1: missing \"=\" in \"no equals sign\""},
      {"= value", "main.cf:1: \"\" is not a parameter name"},
      {"a b = c", "main.cf:1: \"a b\" is not a parameter name"},
      {"a-b = c", "main.cf:1: \"a-b\" is not a parameter name"},
      {"  indented = x", "main.cf:1: continuation line without a parameter before it"},
      {"a = b\x01", "main.cf:1: control character \\1 in the line"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    MainCf cf = parse_main_cf(c.text, "main.cf");
    REQUIRE(cf.errors.size() == 1);
    CHECK(cf.errors[0].text() == c.error);
    CHECK(cf.settings.empty());
  }
  MainCf nul = parse_main_cf(std::string("a = b\0c", 7), "main.cf");
  REQUIRE(nul.errors.size() == 1);
  CHECK(nul.errors[0].text() == "main.cf:1: control character \\0 in the line");
}

TEST_CASE("main.cf: every error of the file is reported, with its line", "[config][syntax]") {
  MainCf cf = parse_main_cf(
      "good = 1\n"
      "bad line\n"
      "# comment\n"
      "also bad\n"
      "  continued\n"
      "ok = 2\n"
      "=\n",
      "/etc/posthorn/main.cf");
  REQUIRE(cf.errors.size() == 3);
  CHECK(cf.errors[0].text() == "/etc/posthorn/main.cf:2: missing \"=\" in \"bad line\"");
  CHECK(cf.errors[1].text() == "/etc/posthorn/main.cf:4: missing \"=\" in \"also bad continued\"");
  CHECK(cf.errors[2].line == 7);
  REQUIRE(cf.settings.size() == 2);
  CHECK(cf.settings[1].line == 6);
}

TEST_CASE("main.cf: a repeated name keeps its last value, with a warning", "[config][syntax]") {
  MainCf cf = parse_main_cf("a = 1\nb = 2\na = 3\n", "main.cf");
  CHECK(cf.errors.empty());
  REQUIRE(cf.settings.size() == 2);
  CHECK(cf.settings[0].value == "3");
  CHECK(cf.settings[0].line == 3);
  REQUIRE(cf.warnings.size() == 1);
  CHECK(cf.warnings[0].text() == "main.cf:3: a: overrides the earlier value at line 1");
}

TEST_CASE("diagnostics leave out empty parts", "[config][syntax]") {
  CHECK((Diagnostic{"f", 3, "p", "m"}).text() == "f:3: p: m");
  CHECK((Diagnostic{"f", 0, "", "m"}).text() == "f: m");
  CHECK((Diagnostic{"", 0, "p", "m"}).text() == "p: m");
}

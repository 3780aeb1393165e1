#include "lib/maps/source.h"

#include <catch2/catch.hpp>

using namespace posthorn::maps;

namespace {
std::vector<std::string> warning_texts(const std::vector<Diagnostic>& w) {
  std::vector<std::string> out;
  for (const Diagnostic& d : w) out.push_back(d.str());
  return out;
}
}  // namespace

TEST_CASE("logical lines: comments, blanks, continuation, CRLF", "[maps][source]") {
  std::vector<Diagnostic> w;
  auto lines = logical_lines("# head\nk1 v1\n  more\r\n\n   # inner comment\n\tlast\nk2 v2\r\n",
                             "f", w);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].line == 2);
  CHECK(lines[0].text == "k1 v1  more\tlast");
  CHECK(lines[1].line == 7);
  CHECK(lines[1].text == "k2 v2");
  CHECK(w.empty());
}

TEST_CASE("logical lines: a continuation with nothing before it is a warning", "[maps][source]") {
  std::vector<Diagnostic> w;
  auto lines = logical_lines("  orphan\nk v\n", "/etc/x", w);
  REQUIRE(lines.size() == 1);
  CHECK(warning_texts(w) ==
        std::vector<std::string>{"/etc/x, line 1: continuation line without a preceding line"});
}

TEST_CASE("map source: keys fold, values keep case, bad lines warn with file and line",
          "[maps][source]") {
  auto src = parse_map_source("Key1 Value One\nkey2\t v2 \nlonely\nKEY1 again\n\n", "map.txt",
                              true);
  REQUIRE(src.entries.size() == 2);
  CHECK(src.entries[0].key == "key1");
  CHECK(src.entries[0].value == "Value One");
  CHECK(src.entries[0].line == 1);
  CHECK(src.entries[1].key == "key2");
  CHECK(src.entries[1].value == "v2");
  CHECK(warning_texts(src.warnings) ==
        std::vector<std::string>{"map.txt, line 3: expected format: key whitespace value",
                                 "map.txt, line 4: duplicate entry: \"key1\""});
}

TEST_CASE("map source: case is kept when not folding", "[maps][source]") {
  auto src = parse_map_source("Key1 v\nkey1 w\n", "m", false);
  REQUIRE(src.entries.size() == 2);
  CHECK(src.entries[0].key == "Key1");
  CHECK(src.warnings.empty());
}

TEST_CASE("map source: adversarial input never throws and never yields empty keys",
          "[maps][source]") {
  const std::string inputs[] = {"",      "\n\n\n", " ",       "\t\t\n",     "#",
                                "k",     "k ",     "\r\n",    "k\tv\rw",    std::string("k\0v x", 5),
                                "  # c", "a b\n ", "\xff\xfe v", "k v\\\n w"};
  for (const std::string& in : inputs) {
    auto src = parse_map_source(in, "f", true);
    for (const SourceEntry& e : src.entries) {
      CHECK_FALSE(e.key.empty());
      CHECK_FALSE(e.value.empty());
    }
  }
}

// The expected values are what Postfix's postalias stores for the same lines.
TEST_CASE("aliases source: stored as postalias stores it", "[maps][source][aliases]") {
  auto src = parse_aliases_source(
      "Root: a, b\n  c\n\"Foo Bar\": |\"cmd x\"\na: x,y\nb: x ,  y\nc: \"x y\"@d, <q@r>\n"
      "d: x (comment), y\ne:x\nf : g\nk\\:l: m\nn: :include:/etc/x, /var/f\n",
      "aliases", true);
  std::vector<std::pair<std::string, std::string>> got;
  for (const SourceEntry& e : src.entries) got.emplace_back(e.key, e.value);
  std::vector<std::pair<std::string, std::string>> want = {
      {"root", "a, b c"},     {"foo bar", "|\"cmd x\""},   {"a", "x, y"},
      {"b", "x, y"},          {"c", "\"x y\"@d, <q@r>"},   {"d", "x (comment), y"},
      {"e", "x"},             {"f", "g"},                  {"k:l", "m"},
      {"n", ":include:/etc/x, /var/f"}};
  CHECK(got == want);
  CHECK(src.warnings.empty());
}

TEST_CASE("aliases source: malformed lines warn with file and line", "[maps][source][aliases]") {
  auto src = parse_aliases_source(
      "x@y: z\nnocolon\nempty:\n\"unterminated: a\nq: \"open\nDup: 1\ndup: 2\n: v\np%h: z\n"
      "\"a@b\": ok\n",
      "/etc/aliases", true);
  CHECK(warning_texts(src.warnings) ==
        std::vector<std::string>{"/etc/aliases, line 1: name must be local",
                                 "/etc/aliases, line 2: need name:value pair",
                                 "/etc/aliases, line 3: need name:value pair",
                                 "/etc/aliases, line 4: need name:value pair",
                                 "/etc/aliases, line 5: unterminated quoted string",
                                 "/etc/aliases, line 7: duplicate entry: \"dup\"",
                                 "/etc/aliases, line 8: need name:value pair",
                                 "/etc/aliases, line 9: name must be local"});
  REQUIRE(src.entries.size() == 2);
  CHECK(src.entries[0].key == "dup");
  CHECK(src.entries[0].value == "1");
  CHECK(src.entries[1].key == "a@b");  // quoted: local after all
}

TEST_CASE("alias values split into their destinations", "[maps][source][aliases]") {
  using K = AliasTarget::Kind;
  struct Case {
    std::string value;
    std::vector<std::pair<K, std::string>> want;
  };
  const Case cases[] = {
      {"a, b@example.org", {{K::address, "a"}, {K::address, "b@example.org"}}},
      {"|/usr/bin/vacation joe", {{K::command, "/usr/bin/vacation joe"}}},
      {"\"|cmd -a, -b\", x", {{K::command, "cmd -a, -b"}, {K::address, "x"}}},
      {"|\"cmd x\"", {{K::command, "cmd x"}}},
      {"\"/var/mail/a b\"", {{K::file, "/var/mail/a b"}}},
      {"\"/x\"@example.org", {{K::address, "\"/x\"@example.org"}}},
      {"/var/mail/archive", {{K::file, "/var/mail/archive"}}},
      {":include:/etc/posthorn/list", {{K::include, "/etc/posthorn/list"}}},
      {":INCLUDE: /etc/list", {{K::include, "/etc/list"}}},
      {"\"john doe\"@example.org", {{K::address, "\"john doe\"@example.org"}}},
      {"\"john doe\"", {{K::address, "\"john doe\""}}},
      {"x (the boss), , y", {{K::address, "x (the boss)"}, {K::address, "y"}}},
      {"", {}},
  };
  for (const Case& c : cases) {
    auto r = parse_alias_value(c.value);
    REQUIRE(r);
    std::vector<std::pair<K, std::string>> got;
    for (const AliasTarget& t : *r) got.emplace_back(t.kind, t.text);
    CHECK(got == c.want);
  }
}

TEST_CASE("alias values: malformed ones are errors", "[maps][source][aliases]") {
  for (std::string bad : {"\"open", "a, (comment", "<x@y", ":include:", ":include:  , b"}) {
    auto r = parse_alias_value(bad);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code == posthorn::Errc::parse);
  }
}

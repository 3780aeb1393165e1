// forward_path expansion: Postfix's $name forms with the recipient's attributes.
#include "local/local_expand.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::local;

namespace {

Attributes bob(bool with_extension) {
  Attributes a{{"user", "bob"}, {"home", "/home/bob"}, {"shell", "/bin/sh"},
               {"recipient", "bob+lists@example.org"}, {"local", "bob+lists"},
               {"domain", "example.org"}};
  if (with_extension) {
    a["extension"] = "lists";
    a["recipient_delimiter"] = "+";
  } else {
    a["recipient"] = "bob@example.org";
    a["local"] = "bob";
  }
  return a;
}

std::optional<std::string> expand(std::string_view t, const Attributes& a) {
  auto r = local_expand(t, a, kDefaultExpansionFilter);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("the default forward_path applies the extension file only with an extension", "[local][forward_path]") {
  const std::vector<std::string> def = {"$home/.forward${recipient_delimiter}${extension}",
                                        "$home/.forward"};
  CHECK(forward_paths(def, bob(true), kDefaultExpansionFilter) ==
        std::vector<std::string>{"/home/bob/.forward+lists", "/home/bob/.forward"});
  CHECK(forward_paths(def, bob(false), kDefaultExpansionFilter) ==
        std::vector<std::string>{"/home/bob/.forward"});
}

TEST_CASE("local_expand forms", "[local][forward_path]") {
  const Attributes a = bob(true);
  struct Case {
    const char* templ;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"$home/.forward", "/home/bob/.forward"},
      {"${home}/x", "/home/bob/x"},
      {"$(home)/x", "/home/bob/x"},
      {"/var/forward/$user", "/var/forward/bob"},
      {"/var/forward/${user}.${domain}", "/var/forward/bob.example.org"},
      {"${extension?/ext/$extension}", "/ext/lists"},
      {"${extension:/none}", ""},
      {"$$home", "$home"},
      {"plain", "plain"},
      {"$nosuchname/x", std::nullopt},  // undefined: the entry is skipped
      {"${nosuch?x}", ""},
      {"${nosuch:fallback}", "fallback"},
  };
  for (const Case& c : cases) {
    INFO(c.templ);
    CHECK(expand(c.templ, a) == c.want);
  }
  const Attributes plain = bob(false);
  CHECK(expand("${extension?/ext/$extension}", plain) == std::string());
  CHECK(expand("${extension:/none}", plain) == std::string("/none"));
  CHECK(expand("$home/.forward+$extension", plain) == std::nullopt);
}

TEST_CASE("substituted values pass the expansion filter, the template does not", "[local][forward_path]") {
  Attributes a{{"user", "x y/../$(rm -rf)"}, {"home", "/home/x"}};
  CHECK(expand("/var/fw/$user", a) == std::string("/var/fw/x_y/../__rm_-rf_"));
  auto r = local_expand("/var/fw/$user", a, "abcdefghijklmnopqrstuvwxyz/");
  REQUIRE(r);
  CHECK(*r == std::string("/var/fw/x_y/__/__rm__rf_"));
  CHECK(filter_value("a;b|c", kDefaultExpansionFilter) == "a_b_c");
}

TEST_CASE("malformed templates are errors, and forward_paths skips them", "[local][forward_path]") {
  const Attributes a = bob(true);
  for (const char* bad : {"$", "/x/$", "${home", "${home?x", "${}", "$ x", "${home!x}"}) {
    INFO(bad);
    CHECK(!local_expand(bad, a, kDefaultExpansionFilter));
  }
  std::vector<std::string> errors;
  CHECK(forward_paths({"${home", "$home/.forward"}, a, kDefaultExpansionFilter, &errors) ==
        std::vector<std::string>{"/home/bob/.forward"});
  CHECK(errors.size() == 1);
}

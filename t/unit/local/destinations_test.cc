// Alias values, .forward and :include: files as local reads them.
#include "local/destinations.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::local;
using K = Destination::Kind;

TEST_CASE("alias values become destinations of the four kinds", "[local][aliases]") {
  struct Case {
    const char* value;
    std::vector<Destination> want;
  };
  const Case cases[] = {
      {"alice", {{K::address, "alice"}}},
      {"alice, bob@Example.ORG", {{K::address, "alice"}, {K::address, "bob@example.org"}}},
      {"|/usr/bin/procmail -a x", {{K::command, "/usr/bin/procmail -a x"}}},
      {"\"|/bin/cmd, with comma\"", {{K::command, "/bin/cmd, with comma"}}},
      {"|\"/bin/cmd x\"", {{K::command, "/bin/cmd x"}}},
      {"/var/log/root-mail", {{K::file, "/var/log/root-mail"}}},
      {"/var/mail/dir/", {{K::file, "/var/mail/dir/"}}},
      {":include:/etc/posthorn/staff", {{K::include, "/etc/posthorn/staff"}}},
      {"\\root, other", {{K::address, "root"}, {K::address, "other"}}},
      {"Jane Doe <jane@example.org>", {{K::address, "jane@example.org"}}},
      {"<list@example.org>", {{K::address, "list@example.org"}}},
      {"\"john doe\"@example.org", {{K::address, "\"john doe\"@example.org"}}},
      {"\"john\"@example.org", {{K::address, "john@example.org"}}},
      {"a, , b,", {{K::address, "a"}, {K::address, "b"}}},
      {"alice, |cmd, /f, :include:/l",
       {{K::address, "alice"}, {K::command, "cmd"}, {K::file, "/f"}, {K::include, "/l"}}},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    auto d = parse_destinations(c.value);
    REQUIRE(d);
    CHECK(*d == c.want);
  }
}

TEST_CASE("alias values that cannot be acted on are refused", "[local][aliases]") {
  for (const char* bad : {"\"unterminated", ":include:", ":include:relative/path", "|", "| ",
                          "x@", "@example.org", "<>", "bob>", "\"\"@example.org"}) {
    INFO(bad);
    CHECK(!parse_destinations(bad));
  }
}

TEST_CASE("a .forward file is read as lines of alias values", "[local][aliases]") {
  std::vector<std::string> problems;
  auto d = parse_destination_file(
      "# forward my mail\n"
      "\\alice, alice@elsewhere.example\n"
      "\n"
      "\"|/usr/bin/vacation alice\"\n"
      "   , /home/alice/archive\n"
      "\"broken\n"
      "bob\n",
      problems);
  std::vector<Destination> want = {{K::address, "alice"},
                                   {K::address, "alice@elsewhere.example"},
                                   {K::command, "/usr/bin/vacation alice"},
                                   {K::file, "/home/alice/archive"},
                                   {K::address, "bob"}};
  CHECK(d == want);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("line 6") != std::string::npos);
}

TEST_CASE("an empty .forward has no destinations", "[local][aliases]") {
  std::vector<std::string> problems;
  CHECK(parse_destination_file("", problems).empty());
  CHECK(parse_destination_file("# nothing\n\n   \n", problems).empty());
  CHECK(problems.empty());
}

TEST_CASE("addresses split at the last @", "[local][aliases]") {
  auto p = split_address("\"a@b\"@example.org");
  CHECK(p.local == "\"a@b\"");
  CHECK(p.domain == "example.org");
  p = split_address("root");
  CHECK(p.local == "root");
  CHECK(p.domain.empty());
}

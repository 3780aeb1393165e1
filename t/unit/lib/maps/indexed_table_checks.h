// Checks every indexed table type (hash:, btree:, lmdb:) must pass; called
// from lmdb_table_test.cc and bdb_table_test.cc with the type's name.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/maps/builder.h"
#include "t/unit/lib/maps/maps_test_util.h"

namespace posthorn::maps::test {

inline std::string build(const std::string& spec,
                         const std::vector<std::pair<std::string, std::string>>& entries) {
  auto b = create_table(spec);
  REQUIRE(b);
  for (const auto& [k, v] : entries) REQUIRE(*(*b)->add(k, v));
  REQUIRE((*b)->commit());
  return (*b)->path();
}

inline int count_files(const std::filesystem::path& dir) {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

inline void check_round_trip(const std::string& type) {
  TempDir d;
  std::string spec = type + ":" + (d.path() / "t").string();
  std::string file = build(spec, {{"key1", "Value One"}, {"joe@example.org", "joe"}, {"e", ""}});
  CHECK(count_files(d.path()) == 1);  // no temporary left behind
  auto t = open_table(spec);
  REQUIRE(t);
  CHECK(get(**t, "key1") == "Value One");
  CHECK(get(**t, "KEY1") == "Value One");
  CHECK(get(**t, "Joe@Example.ORG") == "joe");
  CHECK(get(**t, "e") == "");
  CHECK(get(**t, "key") == "<none>");
  CHECK(get(**t, "key12") == "<none>");
  CHECK(get(**t, "") == "<none>");
  auto nul = (*t)->lookup(std::string("key1\0", 5));
  REQUIRE_FALSE(nul);
  CHECK(nul.error().code == Errc::invalid);
  std::vector<std::pair<std::string, std::string>> all;
  REQUIRE((*t)->for_each([&](std::string_view k, std::string_view v) { all.emplace_back(k, v); }));
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::pair<std::string, std::string>>{
                   {"e", ""}, {"joe@example.org", "joe"}, {"key1", "Value One"}});
  auto exact = open_table(spec, OpenOptions{true});
  REQUIRE(exact);
  CHECK(get(**exact, "KEY1") == "<none>");
  CHECK(get(**exact, "key1") == "Value One");
}

inline void check_builder_rules(const std::string& type) {
  TempDir d;
  std::string spec = type + ":" + (d.path() / "t").string();
  std::string file = build(spec, {{"a", "old"}});
  REQUIRE(::chmod(file.c_str(), 0640) == 0);
  {
    auto b = create_table(spec);
    REQUIRE(b);
    CHECK(*(*b)->add("a", "1"));
    CHECK_FALSE(*(*b)->add("a", "2"));  // first value stays
    CHECK_FALSE((*b)->add(std::string("k\0", 2), "v"));
    CHECK_FALSE((*b)->add("k", std::string("v\0w", 3)));
    // Abandoned without commit: the old table stays, nothing is left over.
  }
  CHECK(get(**open_table(spec), "a") == "old");
  CHECK(count_files(d.path()) == 1);
  auto b = create_table(spec);
  REQUIRE(b);
  REQUIRE(*(*b)->add("a", "1"));
  REQUIRE(*(*b)->add("b", "2"));
  REQUIRE((*b)->commit());
  CHECK_FALSE((*b)->commit());
  CHECK(get(**open_table(spec), "a") == "1");
  struct stat st;
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);  // a rebuild keeps the mode
  CHECK(count_files(d.path()) == 1);
}

inline void check_delete(const std::string& type) {
  TempDir d;
  std::string spec = type + ":" + (d.path() / "t").string();
  build(spec, {{"a", "1"}, {"b", "2"}});
  auto gone = delete_key(spec, "A");
  REQUIRE(gone);
  CHECK(*gone);
  auto t = open_table(spec);
  REQUIRE(t);
  CHECK(get(**t, "a") == "<none>");
  CHECK(get(**t, "b") == "2");
  auto again = delete_key(spec, "a");
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto missing = delete_key(type + ":" + (d.path() / "absent").string(), "a");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
}

inline void check_build_from_source(const std::string& type) {
  TempDir d;
  std::string src = d.file("virtual", "Joe@Example.org joe\nbad\n");
  auto r = build_from_source(type + ":" + src, SourceFormat::map);
  REQUIRE(r);
  CHECK(r->entries == 1);
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].str() == src + ", line 2: expected format: key whitespace value");
  CHECK(get(**open_table(type + ":" + src), "joe@example.org") == "joe");

  std::string aliases = d.file("aliases", "Postmaster: root\nroot: joe, |\"/bin/x y\"\n");
  auto a = build_from_source(type + ":" + aliases, SourceFormat::aliases);
  REQUIRE(a);
  CHECK(a->entries == 2);
  auto t = open_table(type + ":" + aliases);
  REQUIRE(t);
  CHECK(get(**t, "postmaster") == "root");
  CHECK(get(**t, "root") == "joe, |\"/bin/x y\"");
  CHECK(get(**t, "@") == "@");  // postalias's sentinel

  auto none = build_from_source(type + ":" + (d.path() / "nosource").string(), SourceFormat::map);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::not_found);
}

// A table rewritten in place after open (as Postfix's postmap does) is
// refused until reopened; truncating it under an open table must not crash.
inline void check_rewritten_in_place(const std::string& type) {
  TempDir d;
  std::string spec = type + ":" + (d.path() / "t").string();
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 3000; ++i) many.emplace_back("key" + std::to_string(i), "value");
  std::string file = build(spec, many);
  auto t = open_table(spec);
  REQUIRE(t);
  CHECK(get(**t, "key2999") == "value");
  {
    auto fd = open_file(file, O_WRONLY | O_TRUNC);
    REQUIRE(fd);
    REQUIRE(write_all(fd->get(), "short"));
  }
  auto r = (*t)->lookup("key2999");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::busy);
  CHECK((*t)->changed());
  auto listed = (*t)->for_each([](std::string_view, std::string_view) {});
  REQUIRE_FALSE(listed);
  CHECK(listed.error().code == Errc::busy);
}

// Damaged files are errors, never crashes.
inline void check_damaged(const std::string& type, const std::string& suffix) {
  TempDir d;
  std::string base = (d.path() / "t").string();
  auto expect_corrupt = [&](std::string_view content) {
    d.file("t" + suffix, content);
    auto t = open_table(type + ":" + base);
    if (t) {  // opening may succeed when the damage lies beyond the header
      for (std::string k : {"a", "key100", "key5000"}) {
        auto r = (*t)->lookup(k);
        if (!r) CHECK(r.error().code != Errc::invalid);
      }
      return;
    }
    CHECK((t.error().code == Errc::corrupt || t.error().code == Errc::io));
  };
  expect_corrupt("");
  expect_corrupt("garbage, not a table\n");
  expect_corrupt(std::string(8192, '\xff'));
  expect_corrupt(std::string(8192, '\0'));
  // A real table, cut short.
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 20000; ++i) many.emplace_back("key" + std::to_string(i), std::string(40, 'v'));
  std::string file = build(type + ":" + base, many);
  auto whole = read_file(file);
  REQUIRE(whole);
  for (std::size_t cut : {std::size_t{100}, std::size_t{4096}, whole->size() / 2,
                          whole->size() - 4096}) {
    INFO("cut at " << cut);
    expect_corrupt(whole->substr(0, cut));
  }
  // A table whose pages were overwritten in the middle.
  std::string scribbled = *whole;
  for (std::size_t i = scribbled.size() / 3; i < scribbled.size() / 3 + 8192; ++i)
    scribbled[i] = static_cast<char>(i * 7);
  expect_corrupt(scribbled);
}

}  // namespace posthorn::maps::test

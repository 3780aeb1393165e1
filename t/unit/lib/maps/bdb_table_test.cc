// hash: and btree: (Berkeley DB); left out of builds WITHOUT_BDB.
#include <db.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "t/unit/lib/maps/indexed_table_checks.h"

using namespace posthorn;
using namespace posthorn::maps;
using namespace posthorn::maps::test;

TEST_CASE("hash/btree: build, look up, fold", "[maps][bdb]") {
  check_round_trip("hash");
  check_round_trip("btree");
}
TEST_CASE("hash/btree: builder rules", "[maps][bdb]") {
  check_builder_rules("hash");
  check_builder_rules("btree");
}
TEST_CASE("hash/btree: delete", "[maps][bdb]") {
  check_delete("hash");
  check_delete("btree");
}
TEST_CASE("hash/btree: build from source", "[maps][bdb]") {
  check_build_from_source("hash");
  check_build_from_source("btree");
}
TEST_CASE("hash/btree: damaged files are errors", "[maps][bdb]") {
  check_damaged("hash", ".db");
  check_damaged("btree", ".db");
}

namespace {
using Raw = std::vector<std::pair<std::string, std::string>>;

DBT dbt(const std::string& s) {
  DBT d;
  std::memset(&d, 0, sizeof d);
  d.data = const_cast<char*>(s.data());
  d.size = static_cast<u_int32_t>(s.size());
  return d;
}

void write_raw(const std::string& path, DBTYPE type, const Raw& kv) {
  DB* db = nullptr;
  REQUIRE(db_create(&db, nullptr, 0) == 0);
  REQUIRE(db->open(db, nullptr, path.c_str(), nullptr, type, DB_CREATE, 0644) == 0);
  for (const auto& [k, v] : kv) {
    DBT dk = dbt(k), dv = dbt(v);
    REQUIRE(db->put(db, nullptr, &dk, &dv, 0) == 0);
  }
  REQUIRE(db->close(db, 0) == 0);
}

Raw read_raw(const std::string& path) {
  Raw out;
  DB* db = nullptr;
  REQUIRE(db_create(&db, nullptr, 0) == 0);
  REQUIRE(db->open(db, nullptr, path.c_str(), nullptr, DB_UNKNOWN, DB_RDONLY, 0) == 0);
  DBC* c = nullptr;
  REQUIRE(db->cursor(db, nullptr, &c, 0) == 0);
  DBT k, v;
  std::memset(&k, 0, sizeof k);
  std::memset(&v, 0, sizeof v);
  while (c->get(c, &k, &v, DB_NEXT) == 0)
    out.emplace_back(std::string(static_cast<char*>(k.data), k.size),
                     std::string(static_cast<char*>(v.data), v.size));
  c->close(c);
  db->close(db, 0);
  return out;
}
}  // namespace

TEST_CASE("hash/btree: stored with Postfix's trailing NUL, in the right format", "[maps][bdb]") {
  TempDir d;
  for (auto [type, dbtype] : {std::pair{"hash", DB_HASH}, std::pair{"btree", DB_BTREE}}) {
    std::string file = build(std::string(type) + ":" + (d.path() / type).string(), {{"k", "v"}});
    CHECK(read_raw(file) == Raw{{std::string("k\0", 2), std::string("v\0", 2)}});
    DB* db = nullptr;
    REQUIRE(db_create(&db, nullptr, 0) == 0);
    REQUIRE(db->open(db, nullptr, file.c_str(), nullptr, DB_UNKNOWN, DB_RDONLY, 0) == 0);
    DBTYPE got;
    REQUIRE(db->get_type(db, &got) == 0);
    CHECK(got == dbtype);
    db->close(db, 0);
  }
}

TEST_CASE("hash/btree: tables written without the NUL are read too", "[maps][bdb]") {
  TempDir d;
  std::string base = (d.path() / "t").string();
  write_raw(base + ".db", DB_HASH,
            {{"plain", "no nul"}, {std::string("with\0", 5), std::string("nul\0", 4)}});
  auto t = open_table("hash:" + base);
  REQUIRE(t);
  CHECK(get(**t, "plain") == "no nul");
  CHECK(get(**t, "with") == "nul");
}

TEST_CASE("hash/btree: a file of the other kind is refused", "[maps][bdb]") {
  TempDir d;
  std::string base = (d.path() / "t").string();
  build("hash:" + base, {{"k", "v"}});
  auto t = open_table("btree:" + base);
  REQUIRE_FALSE(t);
  CHECK(t.error().code == Errc::corrupt);
  auto l = open_table("lmdb:" + base);  // no t.lmdb
  REQUIRE_FALSE(l);
  std::filesystem::rename(base + ".db", base + ".lmdb");
  auto wrong = open_table("lmdb:" + base);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == Errc::corrupt);
}

TEST_CASE("hash/btree: a table rewritten in place must be reopened", "[maps][bdb]") {
  check_rewritten_in_place("hash");
  check_rewritten_in_place("btree");
}

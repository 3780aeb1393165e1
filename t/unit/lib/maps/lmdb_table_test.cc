#include <lmdb.h>

#include <catch2/catch.hpp>

#include "t/unit/lib/maps/indexed_table_checks.h"

using namespace posthorn;
using namespace posthorn::maps;
using namespace posthorn::maps::test;

TEST_CASE("lmdb: build, look up, fold", "[maps][lmdb]") { check_round_trip("lmdb"); }
TEST_CASE("lmdb: builder rules", "[maps][lmdb]") { check_builder_rules("lmdb"); }
TEST_CASE("lmdb: delete", "[maps][lmdb]") { check_delete("lmdb"); }
TEST_CASE("lmdb: build from source", "[maps][lmdb]") { check_build_from_source("lmdb"); }
TEST_CASE("lmdb: damaged files are errors", "[maps][lmdb]") { check_damaged("lmdb", ".lmdb"); }

namespace {
// Writes entries with the raw LMDB API, each key and value exactly as given.
void write_raw(const std::string& path, const std::vector<std::pair<std::string, std::string>>& kv) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_open(env, path.c_str(), MDB_NOSUBDIR | MDB_NOLOCK, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0);
  for (const auto& [k, v] : kv) {
    MDB_val mk{k.size(), const_cast<char*>(k.data())}, mv{v.size(), const_cast<char*>(v.data())};
    REQUIRE(mdb_put(txn, dbi, &mk, &mv, 0) == 0);
  }
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::vector<std::pair<std::string, std::string>> read_raw(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_open(env, path.c_str(), MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_cursor* c = nullptr;
  REQUIRE(mdb_cursor_open(txn, 1, &c) == 0);
  MDB_val k, v;
  while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
    out.emplace_back(std::string(static_cast<char*>(k.mv_data), k.mv_size),
                     std::string(static_cast<char*>(v.mv_data), v.mv_size));
  mdb_cursor_close(c);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}
}  // namespace

TEST_CASE("lmdb: keys and values are stored with Postfix's trailing NUL", "[maps][lmdb]") {
  TempDir d;
  std::string file = build("lmdb:" + (d.path() / "t").string(), {{"k", "v"}});
  CHECK(read_raw(file) == std::vector<std::pair<std::string, std::string>>{
                              {std::string("k\0", 2), std::string("v\0", 2)}});
}

TEST_CASE("lmdb: tables written without the NUL are read too", "[maps][lmdb]") {
  TempDir d;
  std::string base = (d.path() / "t").string();
  write_raw(base + ".lmdb", {{"plain", "no nul"}, {std::string("with\0", 5), std::string("nul\0", 4)}});
  auto t = open_table("lmdb:" + base);
  REQUIRE(t);
  CHECK(get(**t, "plain") == "no nul");
  CHECK(get(**t, "with") == "nul");
}

TEST_CASE("lmdb: a table rewritten in place must be reopened", "[maps][lmdb]") {
  check_rewritten_in_place("lmdb");
}

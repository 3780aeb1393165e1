#include "lib/maps/table.h"

#include <catch2/catch.hpp>

#include "lib/maps/builder.h"
#include "t/unit/lib/maps/maps_test_util.h"

using namespace posthorn;
using namespace posthorn::maps;
using posthorn::maps::test::get;
using posthorn::maps::test::TempDir;

TEST_CASE("spec parsing", "[maps][table]") {
  auto s = parse_spec("hash:/etc/posthorn/virtual");
  REQUIRE(s);
  CHECK(s->type == "hash");
  CHECK(s->name == "/etc/posthorn/virtual");
  auto inl = parse_spec("inline:{a=b:c}");
  REQUIRE(inl);
  CHECK(inl->name == "{a=b:c}");
  for (std::string bad : {"", "noColon", ":name", "/etc/aliases"}) {
    auto r = parse_spec(bad);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code == Errc::parse);
  }
  auto r = open_table("/etc/aliases");
  REQUIRE_FALSE(r);
  CHECK(r.error().detail.find("expected type:name") != std::string::npos);
}

TEST_CASE("an unknown type names the known ones", "[maps][table]") {
  auto r = open_table("cdb:/etc/x");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().detail.find("unknown table type \"cdb\"") != std::string::npos);
  CHECK(r.error().detail.find("lmdb, regexp, static, texthash") != std::string::npos);
  auto b = create_table("cdb:/etc/x");
  REQUIRE_FALSE(b);
  CHECK(b.error().code == Errc::invalid);
}

TEST_CASE("file names per type", "[maps][table]") {
  CHECK(table_file({"hash", "/a/b"}) == "/a/b.db");
  CHECK(table_file({"btree", "/a/b"}) == "/a/b.db");
  CHECK(table_file({"lmdb", "/a/b"}) == "/a/b.lmdb");
  CHECK(table_file({"texthash", "/a/b"}) == "/a/b");
  CHECK(table_file({"regexp", "/a/b"}) == "/a/b");
  CHECK(table_file({"static", "x"}).empty());
}

TEST_CASE("missing files and empty names are errors", "[maps][table]") {
  TempDir d;
  for (std::string type : {"lmdb", "texthash", "regexp"}) {
    auto r = open_table(type + ":" + (d.path() / "absent").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::not_found);
    auto e = open_table(type + ":");
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Errc::parse);
  }
}

TEST_CASE("tables that are read as they are cannot be built or edited", "[maps][table]") {
  for (std::string spec : {"texthash:/x", "regexp:/x", "inline:{a=b}", "static:x"}) {
    auto b = create_table(spec);
    REQUIRE_FALSE(b);
    CHECK(b.error().code == Errc::invalid);
    auto d = delete_key(spec, "a");
    REQUIRE_FALSE(d);
    CHECK(d.error().code == Errc::invalid);
  }
}

#ifdef POSTHORN_WITHOUT_BDB
TEST_CASE("without Berkeley DB, hash: and btree: are errors naming lmdb:", "[maps][table]") {
  for (std::string type : {"hash", "btree"}) {
    auto r = open_table(type + ":/etc/aliases");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::unsupported);
    CHECK(r.error().detail.find("use lmdb: instead") != std::string::npos);
    auto b = create_table(type + ":/tmp/x");
    REQUIRE_FALSE(b);
    CHECK(b.error().code == Errc::unsupported);
    CHECK(b.error().detail.find("lmdb:") != std::string::npos);
  }
  CHECK(std::find(known_types().begin(), known_types().end(), "hash") == known_types().end());
}
#else
TEST_CASE("with Berkeley DB, hash: and btree: are known", "[maps][table]") {
  CHECK(known_types().front() == "btree");
  CHECK(known_types()[1] == "hash");
}
#endif

TEST_CASE("changed() notices a replaced file", "[maps][table]") {
  TempDir d;
  std::string f = d.file("t", "a 1\n");
  auto t = open_table("texthash:" + f);
  REQUIRE(t);
  CHECK_FALSE((*t)->changed());
  d.file("t", "a 22\n");
  CHECK((*t)->changed());
  auto s = open_table("static:x");
  REQUIRE(s);
  CHECK_FALSE((*s)->changed());
}

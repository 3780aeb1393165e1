// Tests for imapd/fetch_cache.h: strings kept across sessions, torn and
// foreign files, compaction.
#include "imapd/fetch_cache.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "lib/base/file.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::imapd;
using K = FetchCache::Kind;

namespace {

std::string content(const std::filesystem::path& p) {
  auto t = read_file(p);
  return t ? *t : std::string("<none>");
}

}  // namespace

TEST_CASE("fetch cache: what one session adds, the next finds", "[imapd][cache]") {
  test::TempDir dir("cache");
  {
    FetchCache c(dir.path(), 77);
    CHECK_FALSE(c.find(1, K::envelope));
    c.add(1, K::envelope, "(\"env\" with\nnewline)");
    c.add(2, K::bodystructure, "");
    CHECK(*c.find(1, K::envelope) == "(\"env\" with\nnewline)");
  }  // flushed when it goes
  CHECK(content(dir / "posthorn-cache") ==
        "posthorn-cache 1 77\n1 E 20\n(\"env\" with\nnewline)\n2 S 0\n\n");
  FetchCache again(dir.path(), 77);
  CHECK(*again.find(1, K::envelope) == "(\"env\" with\nnewline)");
  CHECK(again.find(2, K::bodystructure)->empty());
  CHECK_FALSE(again.find(2, K::envelope));
  // Another session appends; both record sets survive.
  again.add(3, K::body, "b3");
  again.flush();
  FetchCache third(dir.path(), 77);
  CHECK(*third.find(3, K::body) == "b3");
  CHECK(third.size() == 3);
}

TEST_CASE("fetch cache: a torn record ends the reading", "[imapd][cache]") {
  test::TempDir dir("cache");
  dir.file("posthorn-cache", "posthorn-cache 1 5\n1 E 3\nabc\n2 E 10\nshort");
  FetchCache c(dir.path(), 5);
  CHECK(*c.find(1, K::envelope) == "abc");
  CHECK_FALSE(c.find(2, K::envelope));
  for (const char* bad : {"posthorn-cache 1 5\nx E 3\nabc\n1 E 1\nz\n",
                          "posthorn-cache 1 5\n1 E 3\nabcd\n", "posthorn-cache 1 5\n0 E 1\na\n",
                          "posthorn-cache 1 5\n1 E 99999999999999999999999\na\n"}) {
    test::TempDir d("cache");
    d.file("posthorn-cache", bad);
    FetchCache k(d.path(), 5);
    INFO(bad);
    CHECK_FALSE(k.find(1, K::envelope));
  }
}

TEST_CASE("fetch cache: another UIDVALIDITY's file is replaced, not used", "[imapd][cache]") {
  test::TempDir dir("cache");
  dir.file("posthorn-cache", "posthorn-cache 1 5\n1 E 3\nold\n");
  FetchCache c(dir.path(), 6);
  CHECK_FALSE(c.find(1, K::envelope));
  c.add(1, K::envelope, "new");
  c.flush();
  CHECK(content(dir / "posthorn-cache") == "posthorn-cache 1 6\n1 E 3\nnew\n");
}

TEST_CASE("fetch cache: compaction keeps the live UIDs only", "[imapd][cache]") {
  test::TempDir dir("cache");
  {
    FetchCache c(dir.path(), 9);
    for (std::uint32_t uid = 1; uid <= 200; ++uid) c.add(uid, K::envelope, "e" + std::to_string(uid));
  }
  FetchCache c(dir.path(), 9);
  REQUIRE(c.find(1, K::envelope));
  c.compact({150, 151, 152});  // most are gone: rewritten
  CHECK(content(dir / "posthorn-cache") ==
        "posthorn-cache 1 9\n150 E 4\ne150\n151 E 4\ne151\n152 E 4\ne152\n");
  FetchCache d(dir.path(), 9);
  CHECK_FALSE(d.find(1, K::envelope));
  CHECK(*d.find(151, K::envelope) == "e151");
}

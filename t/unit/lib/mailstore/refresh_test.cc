// Tests for Folder::refresh(): rescans only when new/ or cur/ changed, and
// never trusts a directory time that a change in the same tick could hide.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <ctime>

#include "lib/mailstore/folder.h"
#include "lib/mailstore/store.h"
#include "t/unit/lib/mailstore/test_dir.h"

using namespace posthorn;
using namespace posthorn::mailstore;
using posthorn::mailstore::test::TempStore;

namespace {

// Sets a directory's times `ago` seconds back, as if it had not changed since.
void age(const std::filesystem::path& dir, int ago) {
  struct timespec t[2];
  ::clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= ago;
  t[1] = t[0];
  REQUIRE(::utimensat(AT_FDCWD, dir.c_str(), t, 0) == 0);
}

Folder inbox(Store& s) {
  auto f = s.folder("INBOX");
  REQUIRE(f);
  return std::move(*f);
}

}  // namespace

TEST_CASE("refresh skips the scan only when both directories are unchanged and old enough",
          "[mailstore][refresh]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(deliver(t.root, "Subject: a\n\nbody\n"));
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::move_new));
  // Just changed: the times cannot be trusted, every refresh reads again.
  CHECK(*f.refresh(SyncMode::move_new));
  age(t.root / "new", 10);
  age(t.root / "cur", 10);
  REQUIRE(f.sync(SyncMode::move_new));
  CHECK_FALSE(*f.refresh(SyncMode::move_new));
  CHECK_FALSE(*f.refresh(SyncMode::keep_new));
  CHECK(f.snapshot().messages.size() == 1);

  SECTION("a delivery is seen") {
    REQUIRE(deliver(t.root, "Subject: b\n\nbody\n"));
    CHECK(*f.refresh(SyncMode::move_new));
    REQUIRE(f.snapshot().messages.size() == 2);
    CHECK(f.snapshot().messages[1].recent);
  }
  SECTION("another program's flag change and expunge are seen") {
    Folder other = inbox(s);
    REQUIRE(other.sync(SyncMode::keep_new));
    std::uint32_t uid = other.snapshot().messages[0].uid;
    REQUIRE(other.store({uid}, FlagOp::add, {kSeen, {}}));
    CHECK(*f.refresh(SyncMode::move_new));
    CHECK(f.snapshot().messages[0].flags == kSeen);
    age(t.root / "new", 10);
    age(t.root / "cur", 10);
    REQUIRE(f.sync(SyncMode::move_new));
    REQUIRE(other.remove({uid}));
    CHECK(*f.refresh(SyncMode::move_new));
    CHECK(f.snapshot().messages.empty());
  }
  SECTION("what a keep_new scan left in new/ is moved by the next move_new refresh") {
    REQUIRE(deliver(t.root, "Subject: c\n\nbody\n"));
    REQUIRE(f.sync(SyncMode::keep_new));
    age(t.root / "new", 10);
    age(t.root / "cur", 10);
    REQUIRE(f.sync(SyncMode::keep_new));
    CHECK_FALSE(*f.refresh(SyncMode::keep_new));
    CHECK(*f.refresh(SyncMode::move_new));
    CHECK_FALSE(f.snapshot().messages[1].in_new);
  }
}

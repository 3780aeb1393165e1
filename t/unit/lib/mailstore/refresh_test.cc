// Tests for Folder::refresh(): rescans only when new/ or cur/ changed, and
// never trusts a directory time that a change in the same tick could hide.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <ctime>

#include "lib/base/file.h"
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

namespace {

std::string list_text(const TempStore& t) {
  auto text = read_file(t.root / "posthorn-uidlist");
  REQUIRE(text);
  return *text;
}

// Rewrites the list file without touching new/ or cur/.
void edit_list(const TempStore& t, const std::string& from, const std::string& to) {
  std::string text = list_text(t);
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  REQUIRE(write_file_durable(t.root / "posthorn-uidlist", text, 0600));
}

}  // namespace

TEST_CASE("a later session takes a quiet folder from the list, and only then",
          "[mailstore][refresh]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(deliver(t.root, "Subject: a\n\nbody\n"));
  {
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::move_new));
  }
  // Written right after a change: no stamps, the next session reads the
  // directories and, once they are old enough, records where the files are.
  CHECK(list_text(t).find(" - -\n") != std::string::npos);
  age(t.root / "new", 10);
  age(t.root / "cur", 10);
  {
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::move_new));
    REQUIRE(f.snapshot().messages.size() == 1);
  }
  std::string stamped = list_text(t);
  CHECK(stamped.find(" - -\n") == std::string::npos);
  CHECK(stamped.find(" c ") != std::string::npos);

  // Proof that the directories are not read: a flag only the list knows.
  edit_list(t, ":2,\n", ":2,F\n");
  {
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::move_new));
    REQUIRE(f.snapshot().messages.size() == 1);
    CHECK(f.snapshot().messages[0].flags == kFlagged);
    CHECK_FALSE(f.snapshot().messages[0].recent);
  }
  edit_list(t, ":2,F\n", ":2,\n");

  SECTION("a delivery, even with the times set back, is seen") {
    struct stat before;
    REQUIRE(::stat((t.root / "new").c_str(), &before) == 0);
    REQUIRE(deliver(t.root, "Subject: b\n\nbody\n"));
    // The mtime exactly as before; only the ctime shows the change.
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    REQUIRE(::utimensat(AT_FDCWD, (t.root / "new").c_str(), times, 0) == 0);
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::move_new));
    REQUIRE(f.snapshot().messages.size() == 2);
    CHECK(f.snapshot().messages[1].recent);
  }
  SECTION("another program's flag change is seen") {
    Folder other = inbox(s);
    REQUIRE(other.sync(SyncMode::keep_new));
    REQUIRE(other.store({other.snapshot().messages[0].uid}, FlagOp::add, {kSeen, {}}));
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::move_new));
    CHECK(f.snapshot().messages[0].flags == kSeen);
  }
  SECTION("a change within the racy interval is never trusted") {
    REQUIRE(deliver(t.root, "Subject: c\n\nbody\n"));
    {
      Folder f = inbox(s);
      REQUIRE(f.sync(SyncMode::keep_new));
      REQUIRE(f.snapshot().messages.size() == 2);
    }
    CHECK(list_text(t).find(" - -\n") != std::string::npos);
  }
  SECTION("a keep_new list with files in new/ is not enough for move_new") {
    REQUIRE(deliver(t.root, "Subject: d\n\nbody\n"));
    age(t.root / "new", 10);
    age(t.root / "cur", 10);
    {
      Folder f = inbox(s);
      REQUIRE(f.sync(SyncMode::keep_new));
    }
    CHECK(list_text(t).find(" n ") != std::string::npos);
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::keep_new));
    CHECK(f.snapshot().messages[1].in_new);
    REQUIRE(f.sync(SyncMode::move_new));
    CHECK_FALSE(f.snapshot().messages[1].in_new);
    CHECK(f.snapshot().messages[1].recent);
  }
}

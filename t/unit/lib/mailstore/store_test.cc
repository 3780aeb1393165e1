#include "lib/mailstore/store.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "t/unit/lib/mailstore/test_dir.h"

using namespace posthorn;
using namespace posthorn::mailstore;
using posthorn::mailstore::test::count_files;
using posthorn::mailstore::test::TempStore;
namespace fs = std::filesystem;

TEST_CASE("a store is a Maildir++ tree with dot-folders", "[mailstore][store]") {
  TempStore t;
  CHECK(Store::open(t.root, false).error().code == Errc::not_found);
  Store s = t.open();
  CHECK(fs::is_directory(t.root / "cur"));
  CHECK(fs::is_directory(t.root / "new"));
  CHECK(fs::is_directory(t.root / "tmp"));
  REQUIRE(s.create("Sent"));
  REQUIRE(s.create("Archive.2024"));
  CHECK(fs::is_directory(t.root / ".Archive.2024" / "cur"));
  CHECK(fs::exists(t.root / ".Sent" / "maildirfolder"));
  CHECK(s.create("Sent").error().code == Errc::exists);
  CHECK(s.create("inbox").error().code == Errc::exists);
  fs::create_directory(t.root / ".not-a-maildir");  // no cur/: not listed
  fs::create_directory(t.root / ".bad..name");
  fs::create_directories(t.root / ".bad..name" / "cur");
  auto l = s.list();
  REQUIRE(l);
  CHECK(*l == std::vector<std::string>{"INBOX", "Archive.2024", "Sent"});
  auto path = s.folder_path("Archive.2024");
  REQUIRE(path);
  CHECK(*path == t.root / ".Archive.2024");
  CHECK(s.folder("Nope").error().code == Errc::not_found);
  // Dovecot-style folders made by someone else are seen.
  fs::create_directories(t.root / ".Drafts" / "cur");
  CHECK(s.list()->size() == 4);
}

TEST_CASE("hostile folder names never touch the file system", "[mailstore][store]") {
  TempStore t;
  Store s = t.open();
  const std::string hostile[] = {"..", "../x", "/tmp/x", "a/b", ".", "a..b", "x.", "\x1b[31m",
                                 std::string("a\0b", 3)};
  for (const auto& h : hostile) {
    INFO(printable(h));
    CHECK(s.create(h).error().code == Errc::invalid);
    CHECK(s.folder(h).error().code == Errc::invalid);
    CHECK(s.remove(h).error().code == Errc::invalid);
    CHECK(s.rename("INBOX", h).error().code == Errc::invalid);
    CHECK(s.subscribe(h).error().code == Errc::invalid);
    CHECK(s.folder_path(h).error().code == Errc::invalid);
  }
  CHECK(count_files(t.root) == 3);  // cur new tmp
  CHECK(count_files(t.root.parent_path()) == 1);
}

TEST_CASE("delete removes one folder and keeps its sub-folders", "[mailstore][store]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(s.create("A"));
  REQUIRE(s.create("A.B"));
  auto a = s.folder("A");
  REQUIRE(a->append("x\n"));
  REQUIRE(s.remove("A"));
  CHECK(*s.list() == std::vector<std::string>{"INBOX", "A.B"});
  CHECK(s.remove("A").error().code == Errc::not_found);
  CHECK(s.remove("INBOX").error().code == Errc::invalid);
  for (auto& e : fs::directory_iterator(t.root))  // nothing left behind
    CHECK(e.path().filename().string().rfind("posthorn-deleted", 0) == std::string::npos);
  CHECK_FALSE(fs::exists(t.root / ".A"));
  // A folder created again under the old name has a new UIDVALIDITY.
  std::uint32_t old = a->snapshot().uidvalidity;
  REQUIRE(s.create("A"));
  auto again = s.folder("A");
  REQUIRE(again->sync(SyncMode::keep_new));
  CHECK(again->snapshot().uidvalidity > old);
  CHECK(again->snapshot().messages.empty());
}

TEST_CASE("rename moves a folder with its sub-folders and keeps UIDs", "[mailstore][store]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(s.create("Work"));
  REQUIRE(s.create("Work.2023"));
  REQUIRE(s.create("Other"));
  auto w = s.folder("Work");
  auto app = w->append("x\n");
  REQUIRE(app);
  CHECK(s.rename("Work", "Other").error().code == Errc::exists);
  CHECK(s.rename("Nope", "X").error().code == Errc::not_found);
  CHECK(s.rename("Work", "INBOX").error().code == Errc::exists);
  REQUIRE(s.rename("Work", "Old.Work"));
  CHECK(*s.list() == std::vector<std::string>{"INBOX", "Old.Work", "Old.Work.2023", "Other"});
  auto moved = s.folder("Old.Work");
  REQUIRE(moved->sync(SyncMode::keep_new));
  CHECK(moved->snapshot().uidvalidity == app->uidvalidity);
  CHECK(moved->snapshot().messages.at(0).uid == app->uid);
}

TEST_CASE("renaming INBOX moves its messages and leaves INBOX in place", "[mailstore][store]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(s.create("INBOX.Child"));
  auto in = s.folder("INBOX");
  REQUIRE(in->append("one\n", {kSeen, {}}));
  REQUIRE(in->append("two\n"));
  REQUIRE(deliver(t.root, "three\n"));  // not yet synced: must move too
  REQUIRE(s.rename("INBOX", "Old"));
  auto old = s.folder("Old");
  REQUIRE(old);
  REQUIRE(old->sync(SyncMode::keep_new));
  REQUIRE(old->snapshot().messages.size() == 3);
  CHECK(old->snapshot().messages[0].flags == kSeen);
  REQUIRE(in->sync(SyncMode::keep_new));
  CHECK(in->snapshot().messages.empty());
  CHECK(in->snapshot().uidnext == 4);  // UIDs 1..3 are never given again in INBOX
  CHECK(*s.list() == std::vector<std::string>{"INBOX", "INBOX.Child", "Old"});
  REQUIRE(deliver(t.root, "four\n"));
  REQUIRE(in->sync(SyncMode::keep_new));
  CHECK(in->snapshot().messages.at(0).uid == 4);
}

TEST_CASE("subscriptions live in Dovecot's subscriptions file", "[mailstore][store]") {
  TempStore t;
  Store s = t.open();
  CHECK(s.subscriptions()->empty());
  REQUIRE(s.subscribe("Sent"));
  REQUIRE(s.subscribe("Archive.2024"));
  REQUIRE(s.subscribe("Sent"));
  REQUIRE(s.subscribe("inbox"));
  CHECK(*read_file(t.root / "subscriptions") == "Sent\nArchive.2024\nINBOX\n");
  REQUIRE(s.unsubscribe("Sent"));
  REQUIRE(s.unsubscribe("Never"));
  CHECK(*s.subscriptions() == std::vector<std::string>{"Archive.2024", "INBOX"});
  // Dovecot 2.3's version 2 file, and junk lines, are read too.
  REQUIRE(write_file_durable(t.root / "subscriptions", "V\t2\n\nArchive\t2024\nTrash\n../x\n"));
  CHECK(*s.subscriptions() == std::vector<std::string>{"Archive.2024", "Trash"});
}

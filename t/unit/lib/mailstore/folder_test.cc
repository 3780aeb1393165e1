#include "lib/mailstore/folder.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"
#include "lib/mailstore/new_message.h"
#include "lib/mailstore/store.h"
#include "t/unit/lib/mailstore/test_dir.h"

using namespace posthorn;
using namespace posthorn::mailstore;
using posthorn::mailstore::test::count_files;
using posthorn::mailstore::test::TempStore;

namespace {

Folder inbox(Store& s) {
  auto f = s.folder("INBOX");
  REQUIRE(f);
  return std::move(*f);
}

std::vector<std::uint32_t> uids_of(const Snapshot& s) {
  std::vector<std::uint32_t> out;
  for (const auto& m : s.messages) out.push_back(m.uid);
  return out;
}

}  // namespace

TEST_CASE("delivery then snapshot: sizes from the name, CRLF sizes exact", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  auto name = deliver(t.root, "Subject: a\n\nbody\n");
  REQUIRE(name);
  CHECK(name->find(",S=17,W=20") != std::string::npos);
  CHECK(count_files(t.root / "tmp") == 0);
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::keep_new));
  const Snapshot& snap = f.snapshot();
  REQUIRE(snap.messages.size() == 1);
  const Message& m = snap.messages[0];
  CHECK(m.uid == 1);
  CHECK(m.size == 17);
  CHECK(m.vsize == 20);
  CHECK(m.in_new);
  CHECK(snap.uidnext == 2);
  CHECK(snap.uidvalidity != 0);
  auto body = f.read_message(1);
  REQUIRE(body);
  CHECK(*body == "Subject: a\n\nbody\n");
}

TEST_CASE("UIDs and UIDVALIDITY are stable across re-opens; new mail gets higher UIDs",
          "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  for (int i = 0; i < 3; ++i) REQUIRE(deliver(t.root, cat("Subject: ", i, "\n\nx\n")));
  std::uint32_t validity;
  std::vector<std::string> bases;
  {
    Folder f = inbox(s);
    REQUIRE(f.sync(SyncMode::move_new));
    validity = f.snapshot().uidvalidity;
    CHECK(uids_of(f.snapshot()) == std::vector<std::uint32_t>{1, 2, 3});
    for (const auto& m : f.snapshot().messages) bases.push_back(m.base);
    CHECK(count_files(t.root / "new") == 0);
    CHECK(count_files(t.root / "cur") == 3);
  }
  REQUIRE(deliver(t.root, "Subject: later\n\nx\n"));
  Folder again = inbox(s);
  REQUIRE(again.sync(SyncMode::keep_new));
  const Snapshot& snap = again.snapshot();
  CHECK(snap.uidvalidity == validity);
  REQUIRE(uids_of(snap) == std::vector<std::uint32_t>{1, 2, 3, 4});
  for (int i = 0; i < 3; ++i) CHECK(snap.messages[i].base == bases[i]);
  CHECK(snap.messages[3].in_new);
  CHECK(snap.uidnext == 5);
}

TEST_CASE("files added and removed by another program are picked up", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::keep_new));
  t.drop("new", "1600000000.other.host", "From: mutt\n\nhi\n");
  t.drop("cur", "1500000000.older.host:2,S", "From: old\r\n\r\nhi\r\n");
  REQUIRE(f.sync(SyncMode::keep_new));
  REQUIRE(f.snapshot().messages.size() == 2);
  // In order of arrival (the time at the start of the name), not of discovery.
  const Message& older = f.snapshot().messages[0];
  CHECK(older.base == "1500000000.older.host");
  CHECK(older.uid == 1);
  CHECK(older.flags == kSeen);
  CHECK(older.size == 17);
  CHECK(older.vsize == 17);  // already CRLF
  const Message& other = f.snapshot().messages[1];
  CHECK(other.uid == 2);
  CHECK(other.vsize == 18);  // computed once from the content, kept in the list
  auto list = read_file(t.root / "posthorn-uidlist");
  REQUIRE(list);
  CHECK(list->find("2 ") != std::string::npos);
  CHECK(list->find(" 15 18 n 1600000000.other.host\n") != std::string::npos);

  std::filesystem::remove(older.path);
  REQUIRE(f.sync(SyncMode::keep_new));
  CHECK(uids_of(f.snapshot()) == std::vector<std::uint32_t>{2});
  // The UID of a vanished message is never given again.
  t.drop("new", "1700000000.third.host", "x\n");
  REQUIRE(f.sync(SyncMode::keep_new));
  CHECK(uids_of(f.snapshot()) == std::vector<std::uint32_t>{2, 3});
}

TEST_CASE("flags round-trip through the file names, including foreign letters",
          "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  t.drop("cur", "1.foreign.host:2,SZ", "x\n");
  REQUIRE(deliver(t.root, "y\n"));
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::keep_new));
  REQUIRE(f.store({1, 2}, FlagOp::add, {kReplied | kFlagged, {}}));
  CHECK(std::filesystem::path(f.snapshot().messages[0].path).filename() == "1.foreign.host:2,FRSZ");
  CHECK(std::filesystem::path(f.snapshot().messages[1].path).parent_path().filename() == "cur");  // left new/
  REQUIRE(f.store({1}, FlagOp::remove, {kSeen | kTrashed, {}}));
  REQUIRE(f.store({2}, FlagOp::replace, {kDraft | kTrashed, {}}));
  REQUIRE(f.store({99}, FlagOp::add, {kSeen, {}}));  // unknown UID: nothing happens
  Folder other = inbox(s);
  REQUIRE(other.sync(SyncMode::keep_new));
  CHECK(other.snapshot().messages[0].flags == (kFlagged | kReplied));
  CHECK(other.snapshot().messages[0].other_flags == "Z");
  CHECK(other.snapshot().messages[1].flags == (kDraft | kTrashed));
  CHECK(std::filesystem::path(other.snapshot().messages[1].path).filename().string().substr(
            other.snapshot().messages[1].base.size()) == ":2,DT");
}

TEST_CASE("a flag change racing with another program's rename keeps both changes",
          "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  t.drop("cur", "1.m.host:2,", "x\n");
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::keep_new));
  // Another program (mutt) marks it seen behind our back; our snapshot is stale.
  std::filesystem::rename(t.root / "cur" / "1.m.host:2,", t.root / "cur" / "1.m.host:2,S");
  REQUIRE(f.store({1}, FlagOp::add, {kFlagged, {}}));
  CHECK(std::filesystem::exists(t.root / "cur" / "1.m.host:2,FS"));
  CHECK(count_files(t.root / "cur") == 1);
  // Reading through a stale path finds the file again too.
  std::filesystem::rename(t.root / "cur" / "1.m.host:2,FS", t.root / "cur" / "1.m.host:2,FRS");
  auto body = f.read_message(1);
  REQUIRE(body);
  CHECK(*body == "x\n");
  CHECK(f.snapshot().messages[0].flags == (kFlagged | kReplied | kSeen));
}

TEST_CASE("keywords map to letters through dovecot-keywords", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(deliver(t.root, "x\n"));
  REQUIRE(deliver(t.root, "y\n"));
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::move_new));
  REQUIRE(f.store({1}, FlagOp::add, {kSeen, {"$Junk", "Work"}}));
  REQUIRE(f.store({2}, FlagOp::add, {0, {"work"}}));  // same keyword, other case
  auto kw = read_file(t.root / "dovecot-keywords");
  REQUIRE(kw);
  CHECK(*kw == "0 $Junk\n1 Work\n");
  CHECK(std::filesystem::path(f.snapshot().messages[0].path).filename().string().find(":2,Sab") != std::string::npos);
  Folder other = inbox(s);
  REQUIRE(other.sync(SyncMode::keep_new));
  CHECK(other.snapshot().messages[0].keywords == std::vector<std::string>{"$Junk", "Work"});
  CHECK(other.snapshot().messages[1].keywords == std::vector<std::string>{"Work"});
  REQUIRE(other.store({1}, FlagOp::remove, {0, {"$JUNK", "never-seen"}}));
  CHECK(other.snapshot().messages[0].keywords == std::vector<std::string>{"Work"});
  REQUIRE(other.store({1}, FlagOp::replace, {kSeen, {}}));
  CHECK(other.snapshot().messages[0].keywords.empty());
  auto bad = other.store({1}, FlagOp::add, {0, {"bad word"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid);
}

TEST_CASE("append, copy and move return the UIDs a client needs", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(s.create("Archive"));
  Folder f = inbox(s);
  auto a1 = f.append("A\r\n", {kSeen, {"$Label1"}}, 1000000000);
  auto a2 = f.append("B\n", {}, {});
  REQUIRE(a1);
  REQUIRE(a2);
  CHECK(a1->uid == 1);
  CHECK(a2->uid == 2);
  CHECK(a1->uidvalidity == f.snapshot().uidvalidity);
  REQUIRE(f.sync(SyncMode::keep_new));
  CHECK(f.snapshot().messages[0].internal_date == 1000000000);
  CHECK(f.snapshot().messages[0].vsize == 3);
  CHECK(f.snapshot().messages[1].vsize == 3);

  auto arch = s.folder("Archive");
  REQUIRE(arch);
  REQUIRE(arch->append("pre-existing\n"));
  auto copied = f.copy_to(*arch, {2, 1, 77});
  REQUIRE(copied);
  CHECK(copied->uidvalidity == arch->snapshot().uidvalidity);
  REQUIRE(copied->pairs.size() == 2);
  CHECK(copied->pairs[0].source == 1);
  CHECK(copied->pairs[0].target == 2);
  CHECK(copied->pairs[1].source == 2);
  CHECK(copied->pairs[1].target == 3);
  REQUIRE(arch->sync(SyncMode::keep_new));
  const Message* c1 = arch->snapshot().find(2);
  REQUIRE(c1);
  CHECK(c1->flags == kSeen);
  CHECK(c1->keywords == std::vector<std::string>{"$Label1"});
  CHECK(c1->internal_date == 1000000000);
  CHECK(*arch->read_message(2) == "A\r\n");

  auto moved = f.move_to(*arch, {1});
  REQUIRE(moved);
  REQUIRE(moved->pairs.size() == 1);
  CHECK(moved->pairs[0].target == 4);
  REQUIRE(f.sync(SyncMode::keep_new));
  CHECK(uids_of(f.snapshot()) == std::vector<std::uint32_t>{2});
  REQUIRE(arch->sync(SyncMode::keep_new));
  CHECK(uids_of(arch->snapshot()) == std::vector<std::uint32_t>{1, 2, 3, 4});
  CHECK(count_files(t.root / ".Archive" / "tmp") == 0);
}

TEST_CASE("expunge removes \\Deleted messages, optionally only in a UID set",
          "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  Folder f = inbox(s);
  for (int i = 0; i < 5; ++i) REQUIRE(f.append(cat("m", i, "\n")));
  REQUIRE(f.store({1, 2, 4}, FlagOp::add, {kTrashed, {}}));
  // Another session clears \Deleted on 4 just before our expunge: 4 stays.
  Folder other = inbox(s);
  REQUIRE(other.sync(SyncMode::keep_new));
  REQUIRE(other.store({4}, FlagOp::remove, {kTrashed, {}}));
  auto some = f.expunge_deleted(std::vector<std::uint32_t>{2, 3, 4});
  REQUIRE(some);
  CHECK(*some == std::vector<std::uint32_t>{2});
  auto rest = f.expunge_deleted();
  REQUIRE(rest);
  CHECK(*rest == std::vector<std::uint32_t>{1});
  CHECK(uids_of(f.snapshot()) == std::vector<std::uint32_t>{3, 4, 5});
  auto pop = f.remove({3, 5, 42});
  REQUIRE(pop);
  CHECK(*pop == std::vector<std::uint32_t>{3, 5});
  CHECK(count_files(t.root / "cur") == 1);
  REQUIRE(other.sync(SyncMode::keep_new));
  CHECK(uids_of(other.snapshot()) == std::vector<std::uint32_t>{4});
  CHECK(other.open_message(3).error().code == Errc::not_found);
}

TEST_CASE("a damaged or missing uidlist means a new UIDVALIDITY, fresh UIDs, no lost mail",
          "[mailstore][folder]") {
  const std::string damage[] = {"", "junk\n", "posthorn-uidlist 1 5 3\n9 9 9 9 x\n",
                                "posthorn-uidlist 1 5"};
  for (const auto& d : damage) {
    TempStore t;
    Store s = t.open();
    Folder f = inbox(s);
    for (int i = 0; i < 3; ++i) REQUIRE(f.append(cat("m", i, "\n")));
    REQUIRE(f.sync(SyncMode::keep_new));
    std::uint32_t old = f.snapshot().uidvalidity;
    REQUIRE(write_file_durable(t.root / "posthorn-uidlist", d));
    Folder again = inbox(s);
    REQUIRE(again.sync(SyncMode::keep_new));
    CHECK(again.snapshot().uidvalidity > old);
    CHECK(uids_of(again.snapshot()) == std::vector<std::uint32_t>{1, 2, 3});
    std::filesystem::remove(t.root / "posthorn-uidlist");
    REQUIRE(again.sync(SyncMode::keep_new));
    CHECK(again.snapshot().messages.size() == 3);
  }
}

TEST_CASE("UIDVALIDITY values only grow within a store", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  auto a = next_uidvalidity(t.root);
  auto b = next_uidvalidity(t.root);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*b > *a);
  REQUIRE(write_file_durable(t.root / "posthorn-uidvalidity", "garbage"));
  auto c = next_uidvalidity(t.root);
  REQUIRE(c);
  CHECK(*c != 0);
}

TEST_CASE("files with unusable names are ignored, stale tmp files are cleaned",
          "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  t.drop("new", "bad\nname", "x\n");
  t.drop("tmp", "old.tmp", "x\n");
  t.drop("tmp", "fresh.tmp", "x\n");
  struct timespec ts[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (t.root / "tmp" / "old.tmp").c_str(), ts, 0) == 0);
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::move_new));
  CHECK(f.snapshot().messages.empty());
  CHECK_FALSE(std::filesystem::exists(t.root / "tmp" / "old.tmp"));
  CHECK(std::filesystem::exists(t.root / "tmp" / "fresh.tmp"));
}

TEST_CASE("only the sync that moves a message from new/ reports it recent", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  REQUIRE(deliver(t.root, "x\n"));
  Folder pop = inbox(s);
  REQUIRE(pop.sync(SyncMode::keep_new));
  CHECK_FALSE(pop.snapshot().messages.at(0).recent);
  Folder imap = inbox(s);
  REQUIRE(imap.sync(SyncMode::move_new));
  CHECK(imap.snapshot().messages.at(0).recent);
  CHECK_FALSE(imap.snapshot().messages.at(0).in_new);
  Folder second = inbox(s);
  REQUIRE(second.sync(SyncMode::move_new));
  CHECK_FALSE(second.snapshot().messages.at(0).recent);
}

TEST_CASE("a message written in any two pieces gets the same sizes", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  const std::string msg = "From: a\r\nTo: b\n\nline\r\n.\nend";
  for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
    auto nm = NewMessage::create(t.root);
    REQUIRE(nm);
    REQUIRE(nm->write(msg.substr(0, cut)));
    REQUIRE(nm->write(msg.substr(cut)));
    auto name = nm->deliver();
    REQUIRE(name);
    FileName fn = parse_file_name(*name);
    CHECK(fn.size == msg.size());
    CHECK(fn.vsize == msg.size() + 3);
    CHECK(*read_file(t.root / "new" / *name) == msg);
  }
  CHECK(count_files(t.root / "tmp") == 0);
  Folder f = inbox(s);
  REQUIRE(f.sync(SyncMode::keep_new));
  CHECK(f.snapshot().messages.size() == msg.size() + 1);
}

TEST_CASE("an abandoned new message leaves nothing behind", "[mailstore][folder]") {
  TempStore t;
  Store s = t.open();
  {
    auto nm = NewMessage::create(t.root);
    REQUIRE(nm);
    REQUIRE(nm->write("half a message"));
  }
  CHECK(count_files(t.root / "tmp") == 0);
  CHECK(count_files(t.root / "new") == 0);
}

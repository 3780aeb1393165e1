#include "pop3d/maildir_mailbox.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/mailstore/folder.h"
#include "lib/mailstore/store.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::pop3d;

namespace {

std::filesystem::path deliver_to(const std::filesystem::path& root, std::string_view msg) {
  auto store = mailstore::Store::open(root, true);
  REQUIRE(store);
  auto name = mailstore::deliver(root, msg);
  REQUIRE(name);
  return root / "new" / *name;
}

std::unique_ptr<MaildirMailbox> open_box(const std::filesystem::path& root) {
  auto box = MaildirMailbox::open(root);
  REQUIRE(box);
  return std::move(*box);
}

}  // namespace

TEST_CASE("maildir mailbox: listing, UIDLs as IMAP identity, reading", "[pop3d][mailbox]") {
  test::TempDir dir("pop3d");
  const auto root = dir.path() / "Maildir";
  deliver_to(root, "Subject: a\n\nbody\n");
  deliver_to(root, "Subject: b\r\n\r\nbody\r\n");
  auto box = open_box(root);
  const auto& msgs = box->messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].octets == 20);  // 17 bytes, 3 bare LFs
  CHECK(msgs[1].octets == 20);
  // The same identity an IMAP session sees: UIDVALIDITY.UID.
  auto store = mailstore::Store::open(root, false);
  REQUIRE(store);
  auto folder = store->folder("INBOX");
  REQUIRE(folder);
  REQUIRE(folder->sync(mailstore::SyncMode::keep_new));
  const auto& snap = folder->snapshot();
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(msgs[i].uidl == cat(snap.uidvalidity, ".", snap.messages[i].uid));
  auto text = box->read(1);
  REQUIRE(text);
  CHECK(*text == "Subject: b\r\n\r\nbody\r\n");
  CHECK_FALSE(box->read(2));
  // POP3 leaves new/ as it is: the messages are not "seen".
  CHECK(snap.messages[0].in_new);
}

TEST_CASE("maildir mailbox: UIDLs are stable across sessions and after removals",
          "[pop3d][mailbox]") {
  test::TempDir dir("pop3d");
  const auto root = dir.path() / "Maildir";
  for (int i = 0; i < 3; ++i) deliver_to(root, cat("Subject: ", i, "\n\nx\n"));
  std::vector<std::string> first;
  {
    auto box = open_box(root);
    for (const auto& m : box->messages()) first.push_back(m.uidl);
    REQUIRE(box->remove({0}));
  }
  deliver_to(root, "Subject: later\n\nx\n");
  auto box = open_box(root);
  REQUIRE(box->messages().size() == 3);
  CHECK(box->messages()[0].uidl == first[1]);
  CHECK(box->messages()[1].uidl == first[2]);
  CHECK(box->messages()[2].uidl != first[0]);  // a UID is never given again
}

TEST_CASE("maildir mailbox: a second session of the user is busy until the first ends",
          "[pop3d][mailbox]") {
  test::TempDir dir("pop3d");
  const auto root = dir.path() / "Maildir";
  deliver_to(root, "Subject: a\n\nbody\n");
  auto first = open_box(root);
  auto second = MaildirMailbox::open(root);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::busy);
  first.reset();
  CHECK(MaildirMailbox::open(root));
}

TEST_CASE("maildir mailbox: a missing Maildir is made empty; remove takes only the marked",
          "[pop3d][mailbox]") {
  test::TempDir dir("pop3d");
  const auto root = dir.path() / "deep" / "Maildir";
  {
    auto box = open_box(root);
    CHECK(box->messages().empty());
  }
  auto a = deliver_to(root, "Subject: a\n\n1\n");
  auto b = deliver_to(root, "Subject: b\n\n2\n");
  auto box = open_box(root);
  // Another program removed message 1 meanwhile: reading says not_found and
  // removing it is no error.
  REQUIRE(::unlink(a.c_str()) == 0);
  auto gone = box->read(0);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == Errc::not_found);
  CHECK(box->remove({0}));
  CHECK(std::filesystem::exists(b));
}

TEST_CASE("maildir mailbox: a message another program renamed is found again", "[pop3d][mailbox]") {
  test::TempDir dir("pop3d");
  const auto root = dir.path() / "Maildir";
  auto a = deliver_to(root, "Subject: a\n\n1\n");
  auto box = open_box(root);
  // A mail reader moved it to cur/ and flagged it seen.
  auto moved = root / "cur" / (a.filename().string() + ":2,S");
  REQUIRE(::rename(a.c_str(), moved.c_str()) == 0);
  auto text = box->read(0);
  REQUIRE(text);
  CHECK(*text == "Subject: a\n\n1\n");
  REQUIRE(box->remove({0}));
  CHECK_FALSE(std::filesystem::exists(moved));
}

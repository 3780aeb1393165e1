#include "qmgr/notes.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/queue/writer.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::qmgr;

TEST_CASE("note lines round-trip any address bytes", "[qmgr][notes]") {
  const std::string odd("a b%c\r\n\x01\xff\0z@x", 15);
  for (const NoteEntry& e : {NoteEntry{0, false, "plain@example.org"}, NoteEntry{4294967295u, true, odd},
                             NoteEntry{7, false, "%41"}}) {
    std::string line = format_note(e);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find(' ', 3) != std::string::npos);
    auto back = parse_note(line);
    REQUIRE(back);
    CHECK(*back == e);
  }
}

TEST_CASE("malformed note lines are refused", "[qmgr][notes]") {
  for (std::string_view bad : {"", "v1", "v1 1 sent", "v2 1 sent a@b", "v1 x sent a@b", "v1 1 maybe a@b",
                               "v1 1 sent a@b extra", "v1 4294967296 sent a@b", "v1 1 sent %4", "v1 1 sent %zz",
                               "v1 1 sent ", "v1 1 sent a\tb"}) {
    INFO(bad);
    CHECK_FALSE(parse_note(bad));
  }
}

TEST_CASE("notes append durably, skip a torn line, and go with their message", "[qmgr][notes]") {
  posthorn::test::TempDir d("notes");
  queue::Spool spool(d.path() / "spool");
  REQUIRE(queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}));
  const queue::QueueId id(1763805600123456, 77);
  auto none = read_notes(spool, id);
  REQUIRE(none);
  CHECK(none->empty());
  REQUIRE(append_notes(spool, id, {{1, false, "a@x"}, {1, true, "b@x"}}));
  REQUIRE(append_notes(spool, id, {{3, false, "c@x"}}));
  // A crash in the middle of an append leaves a torn last line.
  const auto path = spool.dir(queue::QueueName::defer) / (id.str() + ".expanded");
  auto text = read_file(path);
  REQUIRE(text);
  REQUIRE(write_file_durable(path, *text + "v1 4 se", 0600));
  auto all = read_notes(spool, id);
  REQUIRE(all);
  CHECK(*all == std::vector<NoteEntry>{{1, false, "a@x"}, {1, true, "b@x"}, {3, false, "c@x"}});
  REQUIRE(remove_notes(spool, id));
  REQUIRE(remove_notes(spool, id));  // twice is fine
  CHECK(read_notes(spool, id)->empty());
}

TEST_CASE("notes of messages that are gone are removed at start-up", "[qmgr][notes]") {
  posthorn::test::TempDir d("notes");
  queue::Spool spool(d.path() / "spool");
  REQUIRE(queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}));
  queue::Envelope env;
  env.sender = "s@x";
  env.recipients.push_back(queue::Recipient{"r@x", "", "", 0, {}, 0});
  auto live = queue::write_queue_file(spool, env, "", "body\r\n", {queue::QueueName::deferred});
  REQUIRE(live);
  const queue::QueueId dead(1763805600123456, 99);
  REQUIRE(append_notes(spool, *live, {{0, false, "a@x"}}));
  REQUIRE(append_notes(spool, dead, {{0, false, "a@x"}}));
  REQUIRE(write_file_durable(spool.dir(queue::QueueName::defer) / "unrelated.expanded", "x", 0600));
  CHECK(remove_orphan_notes(spool) == 1);
  CHECK(read_notes(spool, *live)->size() == 1);
  CHECK(read_notes(spool, dead)->empty());
  CHECK(std::filesystem::exists(spool.dir(queue::QueueName::defer) / "unrelated.expanded"));
}

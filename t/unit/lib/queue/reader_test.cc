#include "lib/queue/reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/log/log.h"
#include "lib/queue/recipient_update.h"
#include "lib/queue/writer.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::queue;
using posthorn::queue::test::sample_envelope;
using posthorn::queue::test::ScratchDir;

namespace {

SpoolOwners me() { return {::getuid(), ::getgid(), ::getgid()}; }

struct Fixture {
  ScratchDir dir;
  Spool spool{dir.path()};
  QueueId id;
  std::filesystem::path path;
  Fixture() {
    REQUIRE(create_spool(spool, me()));
    auto r = write_queue_file(spool, sample_envelope(3), "Subject: x\r\n\r\n", "body\r\n");
    REQUIRE(r);
    id = *r;
    path = spool.file(QueueName::incoming, id);
  }
};

// Sends the log to a file for the duration of a test.
struct CapturedLog {
  std::filesystem::path file;
  log::Options saved = log::options();
  explicit CapturedLog(const std::filesystem::path& f) : file(f) {
    log::Options o;
    o.program = "qmgr";
    o.file = f.string();
    log::configure(o);
  }
  ~CapturedLog() { log::configure(saved); }
  std::string text() const { return read_file(file).value_or(std::string()); }
};

}  // namespace

TEST_CASE("marking recipients done survives re-reading", "[queue][reader]") {
  Fixture f;
  auto qf = read_queue_file(f.path);
  REQUIRE(qf);
  REQUIRE(mark_recipient_done(f.path, *qf, 1, RcptState::delivered, 1763805700));
  CHECK(qf->env.recipients[1].status.done());
  auto again = read_queue_file(f.path);
  REQUIRE(again);
  CHECK_FALSE(again->env.recipients[0].status.done());
  CHECK(again->env.recipients[1].status == RecipientStatus{RcptState::delivered, 0, 1, 1763805700, 0});
  CHECK_FALSE(again->env.recipients[2].status.done());
  CHECK(again->headers == "Subject: x\r\n\r\n");  // the checksum still holds

  RecipientStatus deferred{RcptState::deferred, kSentDelayNotice, 3, 1763805800, 1763809400};
  REQUIRE(update_recipients(f.path, *again, {{0, deferred}, {2, {RcptState::bounced, 0, 1, 5, 0}}}));
  auto third = read_queue_file(f.path);
  REQUIRE(third);
  CHECK(third->env.recipients[0].status == deferred);
  CHECK(third->env.recipients[1].status.state == RcptState::delivered);
  CHECK(third->env.recipients[2].status.state == RcptState::bounced);
  CHECK_FALSE(third->all_done());
  REQUIRE(mark_recipient_done(f.path, *third, 0, RcptState::delivered, 1763809500));
  CHECK(third->env.recipients[0].status.attempts == 4);
  CHECK(read_queue_file(f.path)->all_done());
  REQUIRE(remove_queue_file(f.spool, QueueName::incoming, f.id));
  CHECK_FALSE(std::filesystem::exists(f.path));
  CHECK(remove_queue_file(f.spool, QueueName::incoming, f.id).error().code == Errc::not_found);
}

TEST_CASE("updates synced later are written at once and synced on request", "[queue][reader]") {
  Fixture f;
  auto qf = read_queue_file(f.path);
  REQUIRE(qf);
  const RecipientStatus done{RcptState::delivered, 0, 1, 1763805700, 0};
  REQUIRE(update_recipients(f.path, *qf, {{0, done}, {1, done}, {2, done}}, Sync::later));
  CHECK(qf->all_done());
  auto again = read_queue_file(f.path);  // in the file (the page cache) already
  REQUIRE(again);
  CHECK(again->all_done());
  CHECK(again->env.recipients[2].status == done);
  CHECK(sync_recipients(f.path));
  CHECK(sync_recipients(f.dir.path() / "gone").error().code == Errc::not_found);
  // The checks of an immediate update apply all the same.
  QueueFile other = *qf;
  other.file_size += 1;
  CHECK(update_recipients(f.path, other, {{0, done}}, Sync::later).error().code == Errc::corrupt);
}

TEST_CASE("in-place updates refuse bad input and the wrong file", "[queue][reader]") {
  Fixture f;
  auto qf = read_queue_file(f.path);
  REQUIRE(qf);
  auto code = [](const Result<void>& r) { return r ? Errc::invalid : r.error().code; };
  CHECK(!update_recipient(f.path, *qf, 3, {}));
  CHECK(code(mark_recipient_done(f.path, *qf, 0, RcptState::deferred, 1)) == Errc::invalid);
  RecipientStatus weird;
  weird.flags = 0x40;
  CHECK(code(update_recipient(f.path, *qf, 0, weird)) == Errc::invalid);
  QueueFile other = *qf;
  other.file_size += 1;  // pretends to describe another file
  CHECK(code(update_recipient(f.path, other, 0, {})) == Errc::corrupt);
  other = *qf;
  other.env.recipients[0].status_offset = 20;  // not a recipient record
  CHECK(code(update_recipient(f.path, other, 0, {})) == Errc::corrupt);
  CHECK(code(update_recipient(f.dir.path() / "gone", *qf, 0, {})) == Errc::not_found);
  auto unchanged = read_queue_file(f.path);
  REQUIRE(unchanged);
  for (const Recipient& r : unchanged->env.recipients) CHECK(r.status == RecipientStatus{});
}

TEST_CASE("a damaged queue file is moved to corrupt/ with a warning", "[queue][reader]") {
  Fixture f;
  CapturedLog log(f.dir.path() / "maillog");
  auto bytes = read_file(f.path);
  REQUIRE(bytes);
  (*bytes)[bytes->size() - 10] ^= 1;  // one flipped bit in the body
  REQUIRE(write_file_durable(f.path, *bytes, 0600));
  auto r = load_queue_file(f.spool, QueueName::incoming, f.id);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
  CHECK_FALSE(std::filesystem::exists(f.path));
  CHECK(std::filesystem::exists(f.spool.file(QueueName::corrupt, f.id)));
  std::string text = log.text();
  CHECK(text.find("posthorn/qmgr[") != std::string::npos);
  CHECK(text.find("]: " + f.id.str() + ": warning: damaged queue file moved from incoming/ to corrupt/") !=
        std::string::npos);
  CHECK(text.find("checksum mismatch") != std::string::npos);
}

TEST_CASE("read errors other than damage leave the file alone", "[queue][reader]") {
  Fixture f;
  auto missing = load_queue_file(f.spool, QueueName::active, f.id);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  auto big = load_queue_file(f.spool, QueueName::incoming, f.id, {16});
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Errc::too_large);
  CHECK(std::filesystem::exists(f.path));
  auto bytes = read_file(f.path);
  REQUIRE(bytes);
  (*bytes)[11] = 2;  // a later format version: not ours to judge
  REQUIRE(write_file_durable(f.path, *bytes, 0600));
  auto newer = load_queue_file(f.spool, QueueName::incoming, f.id);
  REQUIRE_FALSE(newer);
  CHECK(newer.error().code == Errc::unsupported);
  CHECK(std::filesystem::exists(f.path));
}

TEST_CASE("a file whose name is not its queue ID is corrupt", "[queue][reader]") {
  Fixture f;
  auto other = f.spool.dir(QueueName::incoming) / "01J4A8NT4S2ZZ";
  std::filesystem::rename(f.path, other);
  auto r = read_queue_file(other);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
}

TEST_CASE("junk in maildrop/ is quarantined whatever its name", "[queue][reader]") {
  Fixture f;
  CapturedLog log(f.dir.path() / "maillog");
  const std::string name = "evil\nname";
  REQUIRE(write_file_durable(f.spool.dir(QueueName::maildrop) / name, "junk"));
  auto r = read_queue_file(f.spool.dir(QueueName::maildrop) / name);
  REQUIRE_FALSE(r);
  REQUIRE(quarantine(f.spool, QueueName::maildrop, name, r.error()));
  CHECK(std::filesystem::exists(f.spool.dir(QueueName::corrupt) / name));
  CHECK(log.text().find("]: evil\\012name: warning: damaged queue file moved from maildrop/") !=
        std::string::npos);
  CHECK_FALSE(quarantine(f.spool, QueueName::maildrop, "../x", r.error()));
}

TEST_CASE("queue files move between queues by rename, never replacing", "[queue][reader]") {
  Fixture f;
  REQUIRE(move_queue_file(f.spool, f.id, QueueName::incoming, QueueName::active));
  REQUIRE(move_queue_file(f.spool, f.id, QueueName::active, QueueName::deferred));
  auto qf = load_queue_file(f.spool, QueueName::deferred, f.id);
  REQUIRE(qf);
  CHECK(qf->id == f.id);
  auto gone = move_queue_file(f.spool, f.id, QueueName::active, QueueName::hold);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == Errc::not_found);
  REQUIRE(write_file_durable(f.spool.file(QueueName::hold, f.id), "another copy"));
  auto clash = move_queue_file(f.spool, f.id, QueueName::deferred, QueueName::hold);
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code == Errc::exists);
  CHECK(read_queue_file(f.spool.file(QueueName::deferred, f.id)));  // still there, intact
  CHECK(move_file(f.spool, "..", QueueName::deferred, QueueName::hold).error().code == Errc::invalid);
  CHECK(move_file(f.spool, "a/b", QueueName::deferred, QueueName::hold).error().code == Errc::invalid);
}

TEST_CASE("symlinks and FIFOs planted in maildrop/ are refused without blocking", "[queue][reader]") {
  Fixture f;
  const auto maildrop = f.spool.dir(QueueName::maildrop);
  std::filesystem::create_symlink(f.path, maildrop / "link");  // points at a real queue file
  REQUIRE(::mkfifo((maildrop / "fifo").c_str(), 0600) == 0);
  for (const char* name : {"link", "fifo"}) {
    CAPTURE(name);
    auto r = read_queue_file(maildrop / name);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt);
    REQUIRE(quarantine(f.spool, QueueName::maildrop, name, r.error()));
    CHECK(std::filesystem::symlink_status(f.spool.dir(QueueName::corrupt) / name).type() !=
          std::filesystem::file_type::not_found);
  }
  CHECK(read_queue_file(f.path));  // the symlink's target is untouched
}

TEST_CASE("list_queue returns IDs oldest first and names strangers", "[queue][reader]") {
  Fixture f;
  auto second = write_queue_file(f.spool, sample_envelope(1), "", "x");
  REQUIRE(second);
  REQUIRE(write_file_durable(f.spool.dir(QueueName::incoming) / "README", "hello"));
  REQUIRE(write_file_durable(f.spool.dir(QueueName::incoming) / ".tmp.1.2", "partial"));
  auto l = list_queue(f.spool, QueueName::incoming);
  REQUIRE(l);
  CHECK(l->ids == std::vector<QueueId>{f.id, *second});
  CHECK(l->strangers == std::vector<std::string>{"README"});
  auto empty = list_queue(f.spool, QueueName::deferred);
  REQUIRE(empty);
  CHECK(empty->ids.empty());
  CHECK_FALSE(list_queue(Spool(f.dir.path() / "nowhere"), QueueName::incoming));
}

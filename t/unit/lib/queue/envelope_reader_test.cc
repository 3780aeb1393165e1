#include "lib/queue/envelope_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/queue/codec.h"
#include "lib/queue/reader.h"
#include "lib/queue/recipient_update.h"
#include "lib/queue/writer.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::queue;
using posthorn::queue::test::sample_envelope;
using posthorn::queue::test::sample_file;
using posthorn::queue::test::ScratchDir;

namespace {

SpoolOwners me() { return {::getuid(), ::getgid(), ::getgid()}; }

struct Fixture {
  ScratchDir dir;
  Spool spool{dir.path()};
  Fixture() { REQUIRE(create_spool(spool, me())); }
  std::filesystem::path write(const Envelope& env, std::string_view headers, std::string_view body) {
    auto id = write_queue_file(spool, env, headers, body);
    REQUIRE(id);
    return spool.file(QueueName::incoming, *id);
  }
};

std::string encode(const QueueFile& qf) {
  auto b = encode_queue_file(qf);
  REQUIRE(b);
  return *b;
}

// The envelope the whole-file reader finds, to compare against.
void check_same_as_full(const QueueEnvelope& e, const QueueFile& full) {
  CHECK(e.id == full.id);
  CHECK(e.env == full.env);  // recipients with their status offsets
  CHECK(e.message_size == full.message_size());
  CHECK(e.file_size == full.file_size);
}

}  // namespace

TEST_CASE("the envelope reader finds what the whole-file reader finds", "[queue][envelope]") {
  Fixture f;
  for (std::size_t rcpts : {1u, 3u, 700u}) {  // 700 recipients: longer than the first read
    auto path = f.write(sample_envelope(rcpts), "Subject: x\r\n\r\n", std::string(100000, 'b'));
    auto full = read_queue_file(path);
    REQUIRE(full);
    auto env = read_queue_envelope(path);
    REQUIRE(env);
    check_same_as_full(*env, *full);
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(env->mtime == st.st_mtime);
  }
}

TEST_CASE("the envelope reader sees recipient updates made in place", "[queue][envelope]") {
  Fixture f;
  auto path = f.write(sample_envelope(3), "Subject: x\r\n\r\n", "body\r\n");
  auto qf = read_queue_file(path);
  REQUIRE(qf);
  REQUIRE(mark_recipient_done(path, *qf, 2, RcptState::bounced, 1763805700));
  auto env = read_queue_envelope(path);
  REQUIRE(env);
  CHECK(env->env.recipients[2].status.state == RcptState::bounced);
  CHECK(env->env.recipients[2].status.last_attempt == 1763805700);
  CHECK(env->env.recipients[0].status.state == RcptState::pending);
}

TEST_CASE("the envelope parser asks for more bytes at every cut, never fails", "[queue][envelope]") {
  QueueFile qf = sample_file(5);
  std::string bytes = encode(qf);
  auto full = parse_queue_file(bytes);
  REQUIRE(full);
  auto whole = parse_queue_envelope(bytes, bytes.size());
  REQUIRE(whole);
  REQUIRE(whole->need_bytes == 0);
  std::size_t envelope_end = whole->content_offset;
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    INFO("cut at " << cut);
    auto r = parse_queue_envelope(std::string_view(bytes).substr(0, cut), bytes.size());
    REQUIRE(r);
    if (r->need_bytes != 0) {
      CHECK(cut < envelope_end);
      CHECK(r->need_bytes > cut);
      CHECK(r->need_bytes <= envelope_end);
      continue;
    }
    CHECK(cut >= envelope_end);
    CHECK(r->id == full->id);
    CHECK(r->env == full->env);
    CHECK(r->message_size == full->message_size());
    CHECK(r->content_offset == envelope_end);
  }
}

TEST_CASE("the envelope parser refuses what does not add up", "[queue][envelope]") {
  QueueFile qf = sample_file(2);
  std::string bytes = encode(qf);
  // A file cut short, or with bytes added, no longer matches its meta record.
  std::string shorter = bytes.substr(0, bytes.size() - 1);
  CHECK(parse_queue_envelope(shorter, shorter.size()).error().code == Errc::corrupt);
  CHECK(parse_queue_envelope(bytes, bytes.size() + 1).error().code == Errc::corrupt);
  CHECK(parse_queue_envelope(bytes, bytes.size() + 100000).error().code == Errc::corrupt);
  // A prefix longer than the file is the caller's mistake.
  CHECK(parse_queue_envelope(bytes, bytes.size() - 1).error().code == Errc::invalid);
  // Bad magic and another version, however short the prefix.
  std::string bad = bytes;
  bad[1] = 'X';
  CHECK(parse_queue_envelope(bad, bad.size()).error().code == Errc::corrupt);
  CHECK(parse_queue_envelope(std::string_view(bad).substr(0, 12), bad.size()).error().code ==
        Errc::corrupt);
  std::string v2 = bytes;
  v2[11] = 2;
  CHECK(parse_queue_envelope(std::string_view(v2).substr(0, 12), v2.size()).error().code ==
        Errc::unsupported);
  // A length that points past the end of the file is damage, not a reason to read on.
  std::string forged = bytes;
  std::size_t sender_at = 12 + 5 + qf.id.str().size() + 5 + 24;  // after I and M
  REQUIRE(forged[sender_at] == 'S');
  forged[sender_at + 1] = '\x7f';
  auto r = parse_queue_envelope(std::string_view(forged).substr(0, sender_at + 5), forged.size());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
  // Every single-byte change in the envelope is parsed or refused, never a crash.
  auto whole = parse_queue_envelope(bytes, bytes.size());
  REQUIRE(whole);
  for (std::size_t i = 0; i < whole->content_offset; ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    auto p = parse_queue_envelope(flipped, flipped.size());
    if (p) CHECK(p->need_bytes == 0);
  }
}

TEST_CASE("the envelope reader does not read the content", "[queue][envelope]") {
  Fixture f;
  auto path = f.write(sample_envelope(2), "Subject: x\r\n\r\n", "body that will be damaged\r\n");
  auto bytes = read_file(path);
  REQUIRE(bytes);
  std::string damaged = *bytes;
  damaged[damaged.size() - 20] ^= 1;  // in the body: only the checksum can tell
  REQUIRE(write_file_durable(path, damaged, 0600));
  CHECK(read_queue_file(path).error().code == Errc::corrupt);
  auto env = read_queue_envelope(path);
  REQUIRE(env);
  CHECK(env->env.recipients.size() == 2);
}

TEST_CASE("the envelope reader refuses files that are not queue files", "[queue][envelope]") {
  Fixture f;
  auto path = f.write(sample_envelope(1), "Subject: x\r\n\r\n", "body\r\n");
  auto bytes = read_file(path);
  REQUIRE(bytes);
  std::filesystem::path dir = f.spool.dir(QueueName::incoming);
  std::string id = path.filename().string();

  SECTION("gone") {
    CHECK(read_queue_envelope(dir / "1J45FZ3Z2J044J").error().code == Errc::not_found);
  }
  SECTION("under another name") {
    REQUIRE(write_file_durable(dir / "1J45FZ3Z2J044J", *bytes, 0600));
    auto r = read_queue_envelope(dir / "1J45FZ3Z2J044J");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt);
    CHECK_THAT(r.error().detail, Catch::Contains("does not match queue ID"));
  }
  SECTION("truncated") {
    REQUIRE(write_file_durable(path, bytes->substr(0, bytes->size() - 3), 0600));
    CHECK(read_queue_envelope(path).error().code == Errc::corrupt);
  }
  SECTION("a symlink") {
    std::filesystem::path link = dir / "1J45FZ3Z2J044K";
    std::filesystem::create_symlink(path, link);
    CHECK(read_queue_envelope(link).error().code == Errc::corrupt);
  }
  SECTION("a FIFO, without blocking") {
    std::filesystem::path fifo = dir / "1J45FZ3Z2J044M";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(read_queue_envelope(fifo).error().code == Errc::corrupt);
  }
  SECTION("larger than allowed") {
    ReadOptions small;
    small.max_bytes = 10;
    CHECK(read_queue_envelope(path, small).error().code == Errc::too_large);
  }
}

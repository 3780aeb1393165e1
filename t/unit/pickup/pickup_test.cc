// Tests of pickup/pickup.cc: maildrop files in a scratch spool, as postdrop
// writes them and as a hostile user might.
#include "pickup/pickup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/log/log.h"
#include "lib/queue/codec.h"
#include "lib/queue/reader.h"
#include "t/unit/support/temp_dir.h"
#include "tools/postdrop/drop_file.h"

using namespace posthorn;
using posthorn::test::TempDir;
using queue::QueueName;

namespace {

struct Fixture {
  TempDir dir{"pickup"};
  queue::Spool spool{dir / "spool"};
  pickup::Settings settings;
  log::Options saved = log::options();

  Fixture() {
    REQUIRE(queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}));
    settings.cleanup.myhostname = "host.example.org";
    settings.cleanup.myorigin = "example.org";
    log::Options o;
    o.program = "pickup";
    o.file = (dir / "maillog").string();
    log::configure(o);
  }
  ~Fixture() { log::configure(saved); }

  std::string log_text() const { return read_file(dir / "maillog").value_or(std::string()); }

  queue::Envelope envelope(std::string full_name = "Alice Example") const {
    queue::Envelope e;
    e.sender = "alice";
    queue::Recipient r;
    r.address = "bob@example.net";
    e.recipients.push_back(r);
    e.client.name = std::move(full_name);
    e.client.protocol = "local";
    return e;
  }
  queue::QueueId drop(const queue::Envelope& e, std::string_view content) {
    auto id = postdrop::write_drop_file(spool, e, content);
    REQUIRE(id);
    return *id;
  }
  // A file with any bytes under a queue-ID name, as a hostile user could make.
  std::string plant(std::string_view bytes, std::string name = "1K0Y500FVFAAERSX") {
    REQUIRE(write_file_durable(spool.dir(QueueName::maildrop) / name, bytes, 0644));
    return name;
  }
  std::vector<std::string> names(QueueName q) const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(spool.dir(q)))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  queue::QueueFile incoming_file(const queue::QueueId& id) const {
    auto qf = queue::read_queue_file(spool.file(QueueName::incoming, id));
    REQUIRE(qf);
    return *qf;
  }
};

}  // namespace

TEST_CASE("pickup: a maildrop file becomes a queue file in incoming/", "[pickup]") {
  Fixture f;
  auto e = f.envelope();
  e.envid = "ENV1";
  e.ret = queue::DsnRet::hdrs;
  e.recipients[0].notify = queue::kNotifySuccess;
  auto dropped = f.drop(e, "Subject: hi\nBcc: secret@example.com\n\nhello\n");
  auto r = pickup::pickup_file(f.spool, dropped.str(), f.settings);
  REQUIRE(r.outcome == pickup::Outcome::queued);
  CHECK(f.names(QueueName::maildrop).empty());
  CHECK(f.names(QueueName::incoming) == std::vector<std::string>{r.queue_id.str()});

  auto qf = f.incoming_file(r.queue_id);
  CHECK(qf.env.sender == "alice@example.org");
  REQUIRE(qf.env.recipients.size() == 1);
  CHECK(qf.env.recipients[0].address == "bob@example.net");
  CHECK(qf.env.recipients[0].notify == queue::kNotifySuccess);
  CHECK(qf.env.envid == "ENV1");
  CHECK(qf.env.ret == queue::DsnRet::hdrs);
  CHECK(qf.env.client.protocol == "local");
  CHECK(qf.env.client.name.empty());  // the full name went into From, not the envelope
  const std::string& h = qf.headers;
  CHECK_THAT(h, Catch::StartsWith("Received: by host.example.org (Posthorn, from userid " +
                                  std::to_string(::getuid()) + ");\r\n"));
  CHECK_THAT(h, Catch::Contains("Subject: hi\r\n"));
  CHECK_THAT(h, Catch::Contains("From: Alice Example <alice@example.org>\r\n"));
  CHECK_THAT(h, Catch::Contains("\r\nDate: "));
  CHECK_THAT(h, Catch::Contains("\r\nMessage-ID: <"));
  CHECK_THAT(h, !Catch::Contains("Bcc"));
  CHECK(qf.body == "hello\r\n");
  CHECK_THAT(f.log_text(), Catch::Contains(r.queue_id.str() + ": uid=" + std::to_string(::getuid()) +
                                           " from=<alice@example.org>"));
}

TEST_CASE("pickup: the submitter is the file's owner, whatever the file says", "[pickup]") {
  if (::geteuid() != 0) return;  // chown needs root
  Fixture f;
  auto id = f.drop(f.envelope(""), "Subject: s\n\nb\n");
  REQUIRE(::chown(f.spool.file(QueueName::maildrop, id).c_str(), 65534, 65534) == 0);
  auto r = pickup::pickup_file(f.spool, id.str(), f.settings);
  REQUIRE(r.outcome == pickup::Outcome::queued);
  auto qf = f.incoming_file(r.queue_id);
  CHECK_THAT(qf.headers, Catch::Contains("from userid 65534)"));
  CHECK_THAT(qf.headers, Catch::Contains("From: alice@example.org\r\n"));
  CHECK_THAT(f.log_text(), Catch::Contains("uid=65534 from=<alice@example.org>"));
}

TEST_CASE("pickup: damaged and hostile files go to corrupt/ and the scan goes on", "[pickup]") {
  Fixture f;
  auto good = f.drop(f.envelope(), "Subject: fine\n\nbody\n");

  // A valid file under the wrong name.
  auto copied = f.drop(f.envelope(), "Subject: copy\n\nbody\n");
  std::string wrong = copied.str();
  wrong.back() = wrong.back() == '1' ? '2' : '1';
  std::filesystem::rename(f.spool.file(QueueName::maildrop, copied),
                          f.spool.dir(QueueName::maildrop) / wrong);
  // Garbage, a truncated file, a symlink, a FIFO, a stranger's name.
  auto full = read_file(f.spool.file(QueueName::maildrop, good));
  REQUIRE(full);
  f.plant("not a queue file at all", "1K0Y500FVFAAERS1");
  f.plant(full->substr(0, full->size() / 2), "1K0Y500FVFAAERS2");
  std::filesystem::create_symlink("/etc/passwd", f.spool.dir(QueueName::maildrop) / "1K0Y500FVFAAERS3");
  REQUIRE(::mkfifo((f.spool.dir(QueueName::maildrop) / "1K0Y500FVFAAERS4").c_str(), 0600) == 0);
  f.plant("whatever", "junk");

  auto scan = pickup::scan_maildrop(f.spool, f.settings);
  REQUIRE(scan);
  CHECK(scan->queued == 1);
  CHECK(scan->quarantined == 6);
  CHECK(scan->retry == 0);
  CHECK(f.names(QueueName::maildrop).empty());
  CHECK(f.names(QueueName::corrupt) ==
        std::vector<std::string>{"1K0Y500FVFAAERS1", "1K0Y500FVFAAERS2", "1K0Y500FVFAAERS3",
                                 "1K0Y500FVFAAERS4", wrong, "junk"});
  CHECK(f.names(QueueName::incoming).size() == 1);
  const std::string log = f.log_text();
  CHECK_THAT(log, Catch::Contains("1K0Y500FVFAAERS3: warning: damaged queue file moved from maildrop/ to corrupt/"));
  CHECK_THAT(log, Catch::Contains("a symbolic link"));
  CHECK_THAT(log, Catch::Contains("not a regular file"));
  CHECK_THAT(log, Catch::Contains("file name does not match queue ID"));
  CHECK_THAT(log, Catch::Contains("not a queue file name"));
}

TEST_CASE("pickup: envelope addresses are checked again", "[pickup]") {
  Fixture f;
  for (std::string bad : {std::string("a\x01" "b@example.org"), std::string("a b@example.org"),
                          std::string("bob@-bad-.example")}) {
    queue::QueueFile qf;
    qf.id = queue::QueueId(1763805600123456, 77);
    qf.env = f.envelope();
    qf.env.recipients[0].address = bad;
    qf.body = "Subject: s\r\n\r\nb\r\n";
    auto bytes = queue::encode_queue_file(qf);
    REQUIRE(bytes);
    auto name = f.plant(*bytes, qf.id.str());
    auto r = pickup::pickup_file(f.spool, name, f.settings);
    CHECK(r.outcome == pickup::Outcome::quarantined);
    CHECK_THAT(r.detail, Catch::Contains("recipient <"));
    std::filesystem::remove(f.spool.dir(QueueName::corrupt) / name);
  }
}

TEST_CASE("pickup: a message cleanup refuses is quarantined, not retried", "[pickup]") {
  Fixture f;
  auto id = f.drop(f.envelope(), "Subject: big\n\n" + std::string(2000, 'x') + "\n");
  f.settings.cleanup.message_size_limit = 1000;
  auto r = pickup::pickup_file(f.spool, id.str(), f.settings);
  CHECK(r.outcome == pickup::Outcome::quarantined);
  CHECK_THAT(r.detail, Catch::Contains("refused by cleanup (too_big)"));
  CHECK(f.names(QueueName::corrupt) == std::vector<std::string>{id.str()});

  // Files above the limit are not even read.
  auto big = f.drop(f.envelope(), std::string(5000, 'y'));
  f.settings.max_file_bytes = 4096;
  r = pickup::pickup_file(f.spool, big.str(), f.settings);
  CHECK(r.outcome == pickup::Outcome::quarantined);
  CHECK_THAT(r.detail, Catch::Contains("larger than 4096 bytes"));
}

TEST_CASE("pickup: a file of another format version stays for a newer pickup", "[pickup]") {
  Fixture f;
  auto id = f.drop(f.envelope(), "Subject: s\n\nb\n");
  auto path = f.spool.file(QueueName::maildrop, id);
  auto bytes = read_file(path);
  REQUIRE(bytes);
  std::string v2 = *bytes;
  v2[11] = 2;  // the version field (FORMAT.md "File header")
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  REQUIRE(write_file_durable(path, v2, 0644));
  auto r = pickup::pickup_file(f.spool, id.str(), f.settings);
  CHECK(r.outcome == pickup::Outcome::retry);
  CHECK(f.names(QueueName::maildrop) == std::vector<std::string>{id.str()});
  CHECK(f.names(QueueName::corrupt).empty());
}

TEST_CASE("pickup: a file that vanished is no error; old temporaries are removed", "[pickup]") {
  Fixture f;
  CHECK(pickup::pickup_file(f.spool, "1K0Y500FVFAAERSX", f.settings).outcome == pickup::Outcome::gone);
  auto tmp = f.spool.dir(QueueName::maildrop) / ".tmp.1.2";
  REQUIRE(write_file_durable(tmp, "partial", 0600));
  auto fresh = f.spool.dir(QueueName::maildrop) / ".tmp.3.4";
  REQUIRE(write_file_durable(fresh, "being written", 0600));
  std::filesystem::last_write_time(tmp, std::filesystem::file_time_type::clock::now() -
                                            std::chrono::hours(2));
  auto scan = pickup::scan_maildrop(f.spool, f.settings);
  REQUIRE(scan);
  CHECK(scan->quarantined == 0);
  CHECK(f.names(QueueName::maildrop) == std::vector<std::string>{".tmp.3.4"});
}

#include "lib/queue/writer.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "lib/base/file.h"
#include "lib/queue/reader.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::queue;
using posthorn::queue::test::sample_envelope;
using posthorn::queue::test::ScratchDir;

namespace {

SpoolOwners me() { return {::getuid(), ::getgid(), ::getgid()}; }

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("a written queue file is complete, private and reads back", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path() / "spool");
  REQUIRE(create_spool(spool, me()));
  Envelope env = sample_envelope(4);
  env.arrival_us = 0;  // taken from the ID
  const std::string headers = "Subject: t\r\n\r\n";
  const std::string body("a\0b\rc\nd\xff", 8);
  auto id = write_queue_file(spool, env, headers, body);
  REQUIRE(id);
  CHECK(names_in(spool.dir(QueueName::incoming)) == std::vector<std::string>{id->str()});
  struct stat st;
  REQUIRE(::stat(spool.file(QueueName::incoming, *id).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_ino == id->inode());
  auto qf = read_queue_file(spool.file(QueueName::incoming, *id));
  REQUIRE(qf);
  CHECK(qf->id == *id);
  CHECK(qf->env.arrival_us == static_cast<std::int64_t>(id->micros()));
  env.arrival_us = qf->env.arrival_us;
  for (auto& r : qf->env.recipients) r.status_offset = 0;
  CHECK(qf->env == env);
  CHECK(qf->headers == headers);
  CHECK(qf->body == body);
}

TEST_CASE("IDs of successive writes are unique and sort in write order", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    auto id = write_queue_file(spool, sample_envelope(1), "", "x");
    REQUIRE(id);
    ids.push_back(id->str());
  }
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  CHECK(names_in(spool.dir(QueueName::incoming)).size() == 200);
}

TEST_CASE("concurrent writer processes never share an ID", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  constexpr int kProcs = 4, kEach = 50;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      for (int i = 0; i < kEach; ++i)
        if (!write_queue_file(spool, sample_envelope(1), "", "x")) ::_exit(1);
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  auto names = names_in(spool.dir(QueueName::incoming));
  CHECK(names.size() == kProcs * kEach);
  for (const auto& n : names) CHECK(read_queue_file(spool.dir(QueueName::incoming) / n));
}

TEST_CASE("a failing write leaves no file behind", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  const auto incoming = spool.dir(QueueName::incoming);

  SECTION("the envelope cannot be encoded (after the temporary file exists)") {
    Envelope env = sample_envelope(1);
    env.recipients[0].address.clear();
    auto r = write_queue_file(spool, env, "", "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
    CHECK(names_in(incoming).empty());
  }
  SECTION("the directory is missing") {
    std::filesystem::remove(incoming);
    auto r = write_queue_file(spool, sample_envelope(1), "", "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::not_found);
  }
  SECTION("the disk fills up mid-write (file size limit)") {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::signal(SIGXFSZ, SIG_IGN);
      struct rlimit rl{300, 300};
      ::setrlimit(RLIMIT_FSIZE, &rl);
      auto r = write_queue_file(spool, sample_envelope(2), "", std::string(4096, 'b'));
      ::_exit(!r && r.error().code == Errc::io ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(names_in(incoming).empty());
  }
  SECTION("the directory is not writable (unprivileged only: root ignores modes)") {
    if (::geteuid() != 0) {
      std::filesystem::permissions(incoming, std::filesystem::perms::owner_read |
                                                 std::filesystem::perms::owner_exec);
      auto r = write_queue_file(spool, sample_envelope(1), "", "x");
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::permission);
      std::filesystem::permissions(incoming, std::filesystem::perms::owner_all);
      CHECK(names_in(incoming).empty());
    }
  }
}

TEST_CASE("the writer can target maildrop/ with its own mode", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  auto id = write_queue_file(spool, sample_envelope(1), "", "x", {QueueName::maildrop, 0640});
  REQUIRE(id);
  struct stat st;
  REQUIRE(::stat(spool.file(QueueName::maildrop, *id).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(names_in(spool.dir(QueueName::incoming)).empty());
}

TEST_CASE("stale temporaries from crashed writers are removed, nothing else", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  const auto incoming = spool.dir(QueueName::incoming);
  auto id = write_queue_file(spool, sample_envelope(1), "", "x");
  REQUIRE(id);
  REQUIRE(write_file_durable(incoming / ".tmp.1.old", "partial"));
  REQUIRE(write_file_durable(incoming / ".tmp.2.fresh", "partial"));
  struct timeval old[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(::utimes((incoming / ".tmp.1.old").c_str(), old) == 0);
  REQUIRE(::utimes(spool.file(QueueName::incoming, *id).c_str(), old) == 0);
  auto n = remove_stale_temporaries(spool, QueueName::incoming, std::chrono::hours(1));
  REQUIRE(n);
  CHECK(*n == 1);
  CHECK(names_in(incoming) == std::vector<std::string>{".tmp.2.fresh", id->str()});
}

TEST_CASE("a writer killed at any instant never leaves a partial file under an ID", "[queue][writer]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  const std::string body(64 * 1024, 'b');
  for (int round = 0; round < 12; ++round) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      for (;;) (void)write_queue_file(spool, sample_envelope(20), "S: x\r\n\r\n", body);
    }
    // Vary where the kill lands; the last round runs long enough that some
    // files are surely complete, so the check below is never vacuous.
    ::usleep(static_cast<useconds_t>(round == 11 ? 300000 : 1000 + round * 700));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
  }
  auto l = list_queue(spool, QueueName::incoming);
  REQUIRE(l);
  CHECK(l->strangers.empty());
  CHECK_FALSE(l->ids.empty());
  for (const QueueId& id : l->ids) {
    auto qf = read_queue_file(spool.file(QueueName::incoming, id));
    CAPTURE(id.str());
    REQUIRE(qf);
    CHECK(qf->body == body);
  }
}

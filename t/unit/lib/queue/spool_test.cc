#include "lib/queue/spool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/base/strings.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::queue;
using posthorn::queue::test::ScratchDir;

namespace {

SpoolOwners me() { return {::getuid(), ::getgid(), ::getgid()}; }

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st;
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<SpoolProblem> check(const Spool& s, bool repair = false) {
  auto r = check_spool(s, me(), repair);
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("create_spool makes Postfix's layout with the given modes", "[queue][spool]") {
  ScratchDir d;
  Spool spool(d.path() / "q");
  REQUIRE(create_spool(spool, me()));
  CHECK(mode_of(spool.dir(QueueName::maildrop)) == 01730);
  CHECK(mode_of(spool.dir(QueueName::public_)) == 0710);
  CHECK(mode_of(spool.dir(QueueName::private_)) == 0700);
  for (QueueName q : {QueueName::incoming, QueueName::active, QueueName::deferred, QueueName::hold,
                      QueueName::corrupt, QueueName::defer, QueueName::bounce})
    CHECK(mode_of(spool.dir(q)) == 0700);
  CHECK(check(spool).empty());
  CHECK(check_one_filesystem(spool));
  REQUIRE(create_spool(spool, me()));  // idempotent
  CHECK(spool_layout(me()).size() == std::size(kAllQueues));
}

TEST_CASE("check_spool reports a wrong mode and repairs it", "[queue][spool]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  REQUIRE(::chmod(spool.dir(QueueName::incoming).c_str(), 0755) == 0);
  REQUIRE(::chmod(spool.dir(QueueName::maildrop).c_str(), 0777) == 0);
  auto problems = check(spool);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].path == spool.dir(QueueName::maildrop));
  CHECK(problems[0].what == "mode 0777, expected 1730");
  CHECK(problems[1].path == spool.dir(QueueName::incoming));
  CHECK(problems[1].what == "mode 0755, expected 0700");
  CHECK_FALSE(problems[1].repaired);
  auto fixed = check(spool, true);
  REQUIRE(fixed.size() == 2);
  CHECK((fixed[0].repaired && fixed[1].repaired));
  CHECK(mode_of(spool.dir(QueueName::incoming)) == 0700);
  CHECK(check(spool).empty());
}

TEST_CASE("check_spool reports missing directories, strangers and an open root", "[queue][spool]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  std::filesystem::remove(spool.dir(QueueName::deferred));
  std::filesystem::remove(spool.dir(QueueName::hold));
  std::filesystem::create_directory_symlink("/tmp", spool.dir(QueueName::hold));
  REQUIRE(::chmod(d.path().c_str(), 0777) == 0);
  auto problems = check(spool);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].what == "mode 0777 is writable by group or others");
  CHECK(problems[1].path == spool.dir(QueueName::deferred));
  CHECK(problems[1].what == "missing");
  CHECK(problems[2].path == spool.dir(QueueName::hold));
  CHECK(problems[2].what == "not a directory");
  auto created = create_spool(spool, me());
  REQUIRE_FALSE(created);  // a symlink is never "repaired"
  CHECK(created.error().code == Errc::permission);
  CHECK(created.error().detail.find("hold: not a directory") != std::string::npos);
  CHECK(std::filesystem::is_directory(spool.dir(QueueName::deferred)));
  CHECK(mode_of(spool.dir(QueueName::deferred)) == 0700);
  CHECK(mode_of(d.path()) == 0755);
}

TEST_CASE("check_spool reports and repairs a wrong owner (root only)", "[queue][spool]") {
  if (::geteuid() != 0) return;  // only root may give a directory away
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  REQUIRE(::chown(spool.dir(QueueName::active).c_str(), 1, 1) == 0);
  auto problems = check(spool);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].what == cat("owner 1:1, expected ", ::getuid(), ":", ::getgid()));
  CHECK(check(spool, true)[0].repaired);
  CHECK(check(spool).empty());
}

TEST_CASE("a queue directory on another filesystem is a clear error", "[queue][spool]") {
  ScratchDir d;
  Spool spool(d.path());
  REQUIRE(create_spool(spool, me()));
  std::filesystem::remove(spool.dir(QueueName::deferred));
  std::filesystem::create_directory_symlink("/proc", spool.dir(QueueName::deferred));
  auto r = check_one_filesystem(spool);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::unsupported);
  CHECK(r.error().detail.find(spool.dir(QueueName::deferred).string() + " is on another filesystem") !=
        std::string::npos);
  CHECK(r.error().detail.find("not be atomic") != std::string::npos);
  std::filesystem::remove(spool.dir(QueueName::deferred));
  auto missing = check_one_filesystem(spool);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
}

// Appending to an mbox: locks, limits, and the guarantee that a failed write
// leaves the file as it was.
#include "local/mbox.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "lib/base/fd.h"
#include "lib/base/file.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::local;

namespace {

MboxTarget target(const std::string& path) {
  MboxTarget t;
  t.path = path;
  t.who = numeric_rights(::getuid(), ::getgid());
  t.who.name = "tester";
  t.locks.attempts = 2;
  t.locks.delay = std::chrono::milliseconds(10);
  return t;
}

std::string contents(const std::string& path) {
  auto r = read_file(path);
  return r ? *r : std::string("<unreadable>");
}

}  // namespace

TEST_CASE("messages are appended in order", "[local][mbox]") {
  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "inbox").string());
  CHECK(append_mbox(t, "From a  x\nfirst\n\n") == Outcome::sent("delivered to mailbox"));
  CHECK(append_mbox(t, "From b  y\nsecond\n\n").ok());
  CHECK(contents(t.path) == "From a  x\nfirst\n\nFrom b  y\nsecond\n\n");
  struct stat st {};
  REQUIRE(::stat(t.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(std::filesystem::exists(t.path + ".lock"));  // the dot lock is gone again
}

TEST_CASE("a mailbox locked by another reader defers, then takes the message", "[local][mbox]") {
  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "inbox").string());
  REQUIRE(write_file_durable(t.path, "old\n", 0600));
  {
    // A mail reader's POSIX lock (what mutt and python's lockf take).
    Fd reader(::open(t.path.c_str(), O_RDWR));
    REQUIRE(reader);
    pid_t child = ::fork();
    if (child == 0) {  // POSIX locks are per process: hold it in another one
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      if (::fcntl(reader.get(), F_SETLK, &fl) != 0) ::_exit(1);
      ::pause();
      ::_exit(0);
    }
    // Until the child holds the lock, our own attempt would succeed.
    for (int i = 0; i < 500; ++i) {
      struct flock probe {};
      probe.l_type = F_WRLCK;
      probe.l_whence = SEEK_SET;
      if (::fcntl(reader.get(), F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) break;
      ::usleep(2000);
    }
    Outcome o = append_mbox(t, "new\n");
    CHECK(o.status == Status::deferred);
    CHECK(o.dsn == "4.2.0");
    CHECK(o.text.find("mailbox is locked") != std::string::npos);
    CHECK(contents(t.path) == "old\n");
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  CHECK(append_mbox(t, "new\n").ok());
  CHECK(contents(t.path) == "old\nnew\n");
}

TEST_CASE("flock and dot locks are honoured too", "[local][mbox]") {
  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "inbox").string());
  t.locks.flock = true;
  REQUIRE(write_file_durable(t.path, "", 0600));
  {
    Fd other(::open(t.path.c_str(), O_RDONLY));
    REQUIRE(::flock(other.get(), LOCK_EX) == 0);
    CHECK(append_mbox(t, "x\n").dsn == "4.2.0");
  }
  REQUIRE(write_file_durable(t.path + ".lock", "", 0600));
  CHECK(append_mbox(t, "x\n").dsn == "4.2.0");
  CHECK(std::filesystem::exists(t.path + ".lock"));  // someone else's lock stays
  // A lock older than stale_lock_time is someone's leftover: removed.
  t.locks.stale = std::chrono::seconds(1);
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (t.path + ".lock").c_str(), old, 0) == 0);
  CHECK(append_mbox(t, "x\n").ok());
  CHECK(contents(t.path) == "x\n");
}

TEST_CASE("the size limit bounces 5.2.2 and writes nothing", "[local][mbox]") {
  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "inbox").string());
  t.limit = 10;
  CHECK(append_mbox(t, "12345\n").ok());
  Outcome o = append_mbox(t, "123456\n");
  CHECK(o.status == Status::bounced);
  CHECK(o.dsn == "5.2.2");
  CHECK(o.text.find("mailbox full") != std::string::npos);
  CHECK(contents(t.path) == "12345\n");
}

TEST_CASE("a write that fails half-way is truncated back", "[local][mbox]") {
  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "inbox").string());
  REQUIRE(write_file_durable(t.path, std::string(100, 'a'), 0600));
  // RLIMIT_FSIZE makes write(2) stop at 150 bytes with EFBIG (SIGXFSZ
  // ignored): the kernel's version of a full disk in the middle of a message.
  struct rlimit saved {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 150;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  Outcome o = append_mbox(t, std::string(1000, 'b'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);
  CHECK(o.status == Status::bounced);
  CHECK(o.dsn == "5.2.2");
  CHECK(contents(t.path) == std::string(100, 'a'));
}

TEST_CASE("unsafe mailboxes are refused", "[local][mbox]") {
  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "inbox").string());
  REQUIRE(write_file_durable((dir / "elsewhere").string(), "", 0600));
  REQUIRE(::symlink((dir / "elsewhere").c_str(), t.path.c_str()) == 0);
  Outcome o = append_mbox(t, "x\n");
  CHECK(o.status == Status::deferred);
  CHECK(o.text.find("symbolic link") != std::string::npos);
  CHECK(contents((dir / "elsewhere").string()).empty());

  MboxTarget h = target((dir / "linked").string());
  REQUIRE(::link((dir / "elsewhere").c_str(), h.path.c_str()) == 0);
  CHECK(append_mbox(h, "x\n").status == Status::deferred);

  MboxTarget d = target((dir / "a-dir").string());
  std::filesystem::create_directory(d.path);
  CHECK(append_mbox(d, "x\n").status == Status::deferred);
}

TEST_CASE("file destinations may be devices and get missing parents only when asked", "[local][mbox]") {
  MboxTarget n = target("/dev/null");
  n.what = "file";
  CHECK(append_mbox(n, "x\n") == Outcome::sent("delivered to file: /dev/null"));

  test::TempDir dir("mbox");
  MboxTarget t = target((dir / "a/b/inbox").string());
  CHECK(append_mbox(t, "x\n").status == Status::deferred);
  t.make_parents = true;
  CHECK(append_mbox(t, "x\n").ok());
  CHECK(contents(t.path) == "x\n");
}

TEST_CASE("lock lists", "[local][mbox]") {
  auto p = parse_lock_list({"flock", "DotLock"}, LockPolicy{});
  REQUIRE(p);
  CHECK(!p->fcntl);
  CHECK(p->flock);
  CHECK(p->dotlock);
  CHECK(!parse_lock_list({"fcntl", "lockf"}, LockPolicy{}));
}

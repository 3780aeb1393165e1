// Tests for lib/privs: lookups, refusals, and (as root) a real drop in a child.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "lib/privs/privs.h"

using namespace posthorn;

TEST_CASE("accounts are looked up; unknown ones are not_found", "[privs]") {
  auto root = privs::lookup_user("root");
  REQUIRE(root);
  CHECK(root->uid == 0);
  auto none = privs::lookup_user("no-such-user-posthorn-test");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::not_found);
  CHECK(privs::lookup_group("root"));
  CHECK_FALSE(privs::lookup_group("no-such-group-posthorn-test"));
}

TEST_CASE("mail_owner must never be root", "[privs]") {
  auto r = privs::mail_owner_identity("root");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::permission);
  CHECK(privs::mail_owner_identity("nobody"));
}

TEST_CASE("drop refuses uid or gid 0 targets", "[privs]") {
  CHECK(privs::drop({"root", 0, 0}, {}).error().code == Errc::permission);
  CHECK(privs::drop({"x", 65534, 0}, {}).error().code == Errc::permission);
}

TEST_CASE("without root, drop_if_root changes nothing and drop refuses", "[privs]") {
  if (privs::is_root()) {
    SUCCEED("running as root: the forked test below covers the drop");
    return;
  }
  uid_t before = ::getuid();
  CHECK(privs::drop_if_root({"nobody", 65534, 65534}, "/"));
  CHECK(::getuid() == before);
  CHECK(privs::drop({"nobody", 65534, 65534}, {}).error().code == Errc::permission);
}

TEST_CASE("as root, a drop with chroot leaves no way back", "[privs]") {
  if (!privs::is_root()) {
    SUCCEED("not root: nothing to drop");
    return;
  }
  auto nobody = privs::mail_owner_identity("nobody");
  REQUIRE(nobody);
  auto jail = std::filesystem::temp_directory_path() / ("posthorn-jail-" + std::to_string(::getpid()));
  std::filesystem::create_directories(jail);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Exit codes name the first failed check; the parent reports them.
    if (!privs::drop(*nobody, jail)) ::_exit(2);
    if (::getuid() != nobody->uid || ::geteuid() != nobody->uid) ::_exit(3);
    if (::getgroups(0, nullptr) != 0) ::_exit(4);
    if (::setuid(0) == 0) ::_exit(5);
    if (::access("/etc/passwd", F_OK) == 0) ::_exit(6);  // the jail is empty
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(jail);
}

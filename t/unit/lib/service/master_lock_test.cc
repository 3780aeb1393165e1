// Tests for lib/service/master_lock.cc: one master per data directory.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/service/master_lock.h"

using namespace posthorn;

namespace {
std::filesystem::path fresh_dir(const char* name) {
  auto d = std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("the master lock admits one holder and names it", "[service]") {
  auto dir = fresh_dir("posthorn-lock-");
  auto none = service::running_master(dir);
  REQUIRE(none);
  CHECK_FALSE(*none);  // no lock file yet
  {
    auto first = service::MasterLock::acquire(dir);
    REQUIRE(first);
    auto running = service::running_master(dir);
    REQUIRE(running);
    REQUIRE(*running);
    CHECK(**running == ::getpid());
    auto second = service::MasterLock::acquire(dir);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == Errc::busy);
    CHECK(second.error().detail.find("already running (master pid " + std::to_string(::getpid())) !=
          std::string::npos);
  }
  auto after = service::running_master(dir);  // released with its descriptor
  REQUIRE(after);
  CHECK_FALSE(*after);
  CHECK(service::MasterLock::acquire(dir));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a lock file that is a symlink is refused", "[service]") {
  auto dir = fresh_dir("posthorn-lock-link-");
  std::filesystem::create_symlink("/etc/passwd", dir / service::kMasterLockName);
  CHECK_FALSE(service::MasterLock::acquire(dir));
  CHECK_FALSE(service::running_master(dir));
  std::filesystem::remove_all(dir);
}

#include "lib/base/file.h"
#include "t/unit/support/temp_dir.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

using namespace posthorn;
namespace fs = std::filesystem;

using test::TempDir;

TEST_CASE("write_file_durable replaces a file whole and leaves no temporary", "[base][file]") {
  TempDir d;
  fs::path f = d.path() / "data";
  REQUIRE(write_file_durable(f, "first", 0600));
  REQUIRE(write_file_durable(f, std::string("second\0binary", 13), 0640));
  auto r = read_file(f);
  REQUIRE(r);
  CHECK(*r == std::string("second\0binary", 13));
  struct stat st;
  REQUIRE(::stat(f.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  int n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(d.path())) ++n;
  CHECK(n == 1);
}

TEST_CASE("read_file reports missing and oversized files as errors", "[base][file]") {
  TempDir d;
  auto missing = read_file(d.path() / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  REQUIRE(write_file_durable(d.path() / "big", std::string(100, 'x')));
  auto big = read_file(d.path() / "big", 10);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Errc::too_large);
}

TEST_CASE("write_file_durable into a missing directory fails cleanly", "[base][file]") {
  TempDir d;
  auto r = write_file_durable(d.path() / "no" / "such" / "file", "x");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
}

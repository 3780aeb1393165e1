// t/unit/qmgr/remover_test.cc - qmgr/remover.h: unlinks off the loop,
// results back on the loop in order, nothing handed over left behind.
#include <catch2/catch.hpp>
#include <fstream>
#include <vector>

#include "lib/event/timer.h"
#include "qmgr/remover.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace std::chrono_literals;

namespace {

std::filesystem::path touch(const std::filesystem::path& p) {
  std::ofstream(p) << "queue file";
  return p;
}

}  // namespace

TEST_CASE("the remover unlinks in order and reports on the loop", "[qmgr][remover]") {
  test::TempDir dir{"remover"};
  event::EventBase loop;
  std::vector<bool> busy;
  qmgr::Remover remover(loop, [&busy](bool b) { busy.push_back(b); });
  std::vector<std::pair<int, int>> got;  // (file number, error)
  for (int i = 0; i < 50; ++i) {
    auto p = i == 7 ? dir.path() / "missing" : touch(dir.path() / std::to_string(i));
    remover.remove(p, [&got, i](int error) { got.emplace_back(i, error); });
  }
  CHECK(got.empty());  // never inside remove()
  CHECK(remover.pending() == 50);
  event::Timer guard(loop, [&] { loop.break_loop(); });
  guard.start(10s);
  while (got.size() < 50 && guard.pending()) REQUIRE(loop.run_once());
  REQUIRE(got.size() == 50);
  for (int i = 0; i < 50; ++i) {
    CHECK(got[i].first == i);
    CHECK(got[i].second == (i == 7 ? ENOENT : 0));
    CHECK_FALSE(std::filesystem::exists(dir.path() / std::to_string(i)));
  }
  CHECK(remover.pending() == 0);
  CHECK(busy == std::vector<bool>{true, false});
}

TEST_CASE("a remover that is destroyed first removes what it was given", "[qmgr][remover]") {
  test::TempDir dir{"remover"};
  event::EventBase loop;
  bool ran = false;
  {
    qmgr::Remover remover(loop);
    for (int i = 0; i < 20; ++i) remover.remove(touch(dir.path() / std::to_string(i)), [&ran](int) { ran = true; });
  }
  for (int i = 0; i < 20; ++i) CHECK_FALSE(std::filesystem::exists(dir.path() / std::to_string(i)));
  CHECK_FALSE(ran);  // the loop never ran: results are dropped with the remover
}

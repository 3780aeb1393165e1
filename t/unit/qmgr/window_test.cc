#include "qmgr/window.h"

#include <catch2/catch.hpp>

using namespace posthorn::qmgr;

namespace {
TransportLimits limits(unsigned initial, unsigned limit, unsigned cohorts = 1) {
  TransportLimits t;
  t.initial_concurrency = initial;
  t.concurrency_limit = limit;
  t.failed_cohort_limit = cohorts;
  return t;
}
}  // namespace

TEST_CASE("slow start: the window opens by one per success up to the limit", "[qmgr][window]") {
  Window w(limits(5, 8));
  CHECK(w.size() == 5);
  CHECK(w.allows(4));
  CHECK_FALSE(w.allows(5));
  for (unsigned want : {6u, 7u, 8u, 8u, 8u}) {
    w.success();
    CHECK(w.size() == want);
  }
}

TEST_CASE("a limit of 0 means no limit; the initial value is capped by the limit", "[qmgr][window]") {
  Window open(limits(2, 0));
  for (int i = 0; i < 100; ++i) open.success();
  CHECK(open.size() == 102);
  Window capped(limits(5, 3));
  CHECK(capped.size() == 3);
}

TEST_CASE("failures close the window and a failed cohort kills the destination", "[qmgr][window]") {
  Window w(limits(5, 20));
  // 1/5 + 1/4 + 1/3 = 0.78: alive; + 1/2 = 1.28: one failed cohort.
  CHECK_FALSE(w.failure());
  CHECK(w.size() == 4);
  CHECK_FALSE(w.failure());
  CHECK_FALSE(w.failure());
  CHECK(w.size() == 2);
  CHECK(w.failure());
  CHECK(w.size() == 1);
}

TEST_CASE("a success forgets earlier failures", "[qmgr][window]") {
  Window w(limits(1, 20, 2));
  CHECK_FALSE(w.failure());  // 1 of 2 cohorts
  w.success();
  CHECK(w.failed_cohorts() == 0);
  CHECK(w.size() == 2);
  CHECK_FALSE(w.failure());  // 0.5
  CHECK_FALSE(w.failure());  // 1.5
  CHECK(w.failure());        // 2.5
}

TEST_CASE("a window of one dies at its first failure with the default cohort limit", "[qmgr][window]") {
  Window w(limits(1, 20));
  CHECK(w.failure());
  w.reset();
  CHECK(w.size() == 1);
  CHECK(w.failed_cohorts() == 0);
}

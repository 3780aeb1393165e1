// lib/event/worker_pool.h: work on pool threads, results back on the loop.
#include "lib/event/worker_pool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "lib/event/timer.h"

using namespace posthorn;
using namespace std::chrono_literals;

namespace {

template <class F>
void run_until(event::EventBase& base, F done) {
  event::Timer guard(base, [&] { base.break_loop(); });
  guard.start(10s);
  while (!done() && guard.pending()) REQUIRE(base.run_once());
  REQUIRE(done());
}

}  // namespace

TEST_CASE("worker pool runs work off the loop and answers on it", "[event][worker_pool]") {
  event::EventBase base;
  event::WorkerPool pool(base, 3, "test");
  CHECK(pool.threads() == 3);
  const std::thread::id loop_thread = std::this_thread::get_id();
  constexpr int kItems = 200;
  std::vector<int> results(kItems, 0);
  std::vector<std::thread::id> workers(kItems);
  std::atomic<int> worked{0};
  int answered = 0;
  bool done_on_loop = true;
  for (int i = 0; i < kItems; ++i) {
    pool.submit(
        [&, i] {
          workers[i] = std::this_thread::get_id();
          results[i] = i * 2;  // handed to `done` through the pool's lock
          ++worked;
        },
        [&, i] {
          done_on_loop = done_on_loop && std::this_thread::get_id() == loop_thread;
          CHECK(results[i] == i * 2);
          ++answered;
        });
  }
  CHECK(answered == 0);  // never inside submit()
  CHECK(pool.in_flight() == kItems);
  run_until(base, [&] { return answered == kItems; });
  CHECK(done_on_loop);
  CHECK(worked == kItems);
  CHECK(pool.in_flight() == 0);
  for (const std::thread::id& w : workers) CHECK(w != loop_thread);
}

TEST_CASE("worker pool runs its items concurrently", "[event][worker_pool]") {
  event::EventBase base;
  event::WorkerPool pool(base, 2, "test");
  // Two items that each wait for the other: they finish only if both run
  // at once (the bound keeps a broken pool from hanging the test).
  std::atomic<int> arrived{0};
  std::atomic<bool> met{true};
  int answered = 0;
  for (int i = 0; i < 2; ++i)
    pool.submit(
        [&] {
          ++arrived;
          const auto deadline = std::chrono::steady_clock::now() + 10s;
          while (arrived < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
          if (arrived < 2) met = false;
        },
        [&] { ++answered; });
  run_until(base, [&] { return answered == 2; });
  CHECK(met);
}

TEST_CASE("worker pool finishes submitted work when it is destroyed", "[event][worker_pool]") {
  std::atomic<int> worked{0};
  int answered = 0;
  {
    event::EventBase base;
    event::WorkerPool pool(base, 1, "test");
    for (int i = 0; i < 20; ++i)
      pool.submit([&] { std::this_thread::sleep_for(1ms); ++worked; }, [&] { ++answered; });
  }
  CHECK(worked == 20);  // every promised write ran to its end
  CHECK(answered == 0); // nothing ran on a loop that is gone
}

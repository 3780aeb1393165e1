// lib/event/worker_pool.cc - see worker_pool.h.
//
// Hand-back: a thread that finishes an item appends it to finished_ and,
// unless a byte is already in the pipe, writes one; the loop's read event
// empties the pipe, takes the whole finished_ list under the lock and runs
// the `done` callbacks outside it. One byte per round, not per item, so a
// burst of completions costs one wake-up.
#include "lib/event/worker_pool.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "lib/event/callback.h"
#include "lib/log/log.h"

namespace posthorn::event {

WorkerPool::WorkerPool(EventBase& base, unsigned threads, std::string name) : name_(std::move(name)) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) log::panic(name_, ": pipe2 failed");
  wake_read_.reset(p[0]);
  wake_write_.reset(p[1]);
  ev_.reset(event_new(base.get(), wake_read_.get(), EV_READ | EV_PERSIST, &trampoline, this));
  if (!ev_ || event_add(ev_.get(), nullptr) != 0) log::panic(name_, ": event_new failed");
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void WorkerPool::submit(Fn work, Fn done) {
  ++in_flight_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.push_back({std::move(work), std::move(done)});
  }
  cv_.notify_one();
}

// Stopping still drains queued_: an item was promised to run.
void WorkerPool::worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    if (queued_.empty()) return;
    Item item = std::move(queued_.front());
    queued_.pop_front();
    lock.unlock();
    item.work();
    lock.lock();
    finished_.push_back(std::move(item));
    if (!signalled_) {
      signalled_ = true;
      const char b = 1;
      // The pipe holds at most one byte, so this cannot block or fail for
      // want of room; an error would be a broken invariant.
      if (::write(wake_write_.get(), &b, 1) != 1) log::panic(name_, ": wake-up write failed");
    }
  }
}

void WorkerPool::on_wake() {
  char buf[64];
  while (::read(wake_read_.get(), buf, sizeof buf) > 0) {
  }
  std::vector<Item> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready.swap(finished_);
    signalled_ = false;
  }
  for (Item& item : ready) {
    --in_flight_;
    Fn done = std::move(item.done);
    guarded(name_, [&] { done(); });
  }
}

void WorkerPool::trampoline(evutil_socket_t, short, void* arg) {
  static_cast<WorkerPool*>(arg)->on_wake();
}

}  // namespace posthorn::event

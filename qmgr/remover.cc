// qmgr/remover.cc - see remover.h.
#include "qmgr/remover.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "lib/event/callback.h"
#include "lib/log/log.h"

namespace posthorn::qmgr {

Remover::Remover(event::EventBase& loop, std::function<void(bool busy)> busy)
    : busy_(std::move(busy)), wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_.get() < 0) log::panic("eventfd for the queue file remover failed");
  ev_.reset(::event_new(loop.get(), wake_.get(), EV_READ | EV_PERSIST, &Remover::on_ready, this));
  if (!ev_ || ::event_add(ev_.get(), nullptr) != 0) log::panic("event_new failed for the queue file remover");
  worker_ = std::thread([this] { work(); });
}

Remover::~Remover() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  worker_.join();
}

void Remover::remove(std::filesystem::path path, std::function<void(int error)> done) {
  waiting_.push_back(std::move(done));
  if (waiting_.size() == 1 && busy_) busy_(true);
  bool idle;
  {
    std::lock_guard lock(mu_);
    idle = todo_.empty();
    todo_.push_back(Item{std::move(path), 0});
  }
  // A worker with work queued already takes this one too: no wake-up (each
  // costs a context switch on both sides).
  if (idle) cv_.notify_one();
}

// The worker: unlinks in order until stopped with nothing left to do.
void Remover::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !todo_.empty(); });
    if (todo_.empty()) return;  // stopping, and everything handed over is done
    Item item = std::move(todo_.front());
    todo_.pop_front();
    lock.unlock();
    item.error = ::unlink(item.path.c_str()) == 0 ? 0 : errno;
    lock.lock();
    const bool first = results_.empty();
    results_.push_back(std::move(item));
    // The loop takes every result at once: only the first since it last
    // looked needs to wake it. A full counter (never, in practice) still
    // leaves the eventfd readable.
    if (first) {
      const std::uint64_t one = 1;
      (void)!::write(wake_.get(), &one, sizeof one);
    }
  }
}

void Remover::on_ready(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Remover*>(arg);
  std::uint64_t count;
  (void)!::read(self->wake_.get(), &count, sizeof count);
  event::guarded("queue file remover", [self] { self->deliver_results(); });
}

void Remover::deliver_results() {
  std::deque<Item> done;
  {
    std::lock_guard lock(mu_);
    done.swap(results_);
  }
  for (Item& item : done) {
    if (waiting_.empty()) log::panic("queue file remover: a result nobody waits for");
    auto fn = std::move(waiting_.front());
    waiting_.pop_front();
    fn(item.error);
  }
  if (!done.empty() && waiting_.empty() && busy_) busy_(false);
}

}  // namespace posthorn::qmgr

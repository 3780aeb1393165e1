// qmgr/remover.h - removing finished queue files off the event loop.
//
// unlink(2) of a queue file frees its blocks, and on a filesystem mounted
// with online discard (ext4 -o discard, common on virtual disks) the call
// waits for the device to discard them: about 2.5 ms per file measured on
// the benchmark machine, which alone held qmgr, one event loop, near 400
// messages per second. One worker thread does these unlinks instead.
//
// Guarantees: the worker touches nothing but its own queue and unlink(2):
// it never logs and never sees the scheduler's state. Each result goes back
// to the loop through an eventfd, and `done` runs there, in the order the
// files were handed over. The destructor removes what was handed over, then
// joins the worker.
// Crash: a file handed over but not yet removed is still in active/ with
// every recipient done; the next qmgr takes it again and removes it
// (Scheduler::start), so nothing is delivered twice by a process crash.
// Refuses: nothing; an unlink error is reported to `done`.
#pragma once

#include <event2/event.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "lib/base/fd.h"
#include "lib/event/event_base.h"
#include "qmgr/ports.h"

namespace posthorn::qmgr {

class Remover final : public FileRemover {
 public:
  // Panics when the eventfd or the libevent event cannot be made (out of
  // resources at start-up). `busy` is told true when files are handed over
  // and false when every `done` has run (main.cc holds a service Job
  // meanwhile, so that a retiring qmgr logs each removal before it exits).
  Remover(event::EventBase& loop, std::function<void(bool busy)> busy = nullptr);
  ~Remover() override;
  Remover(const Remover&) = delete;
  Remover& operator=(const Remover&) = delete;

  void remove(std::filesystem::path path, std::function<void(int error)> done) override;
  // Files handed over whose `done` has not run yet.
  std::size_t pending() const { return waiting_.size(); }

 private:
  struct Item {
    std::filesystem::path path;
    int error = 0;
  };
  void work();
  static void on_ready(evutil_socket_t, short, void* arg);
  void deliver_results();

  std::function<void(bool)> busy_;
  Fd wake_;  // eventfd: the worker counts results up, the loop reads them
  Owned<::event, event_free> ev_;
  std::deque<std::function<void(int)>> waiting_;  // loop only: callbacks in order
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> todo_;     // under mu_
  std::deque<Item> results_;  // under mu_
  bool stopping_ = false;     // under mu_
  std::thread worker_;        // last: started when the rest exists
};

}  // namespace posthorn::qmgr

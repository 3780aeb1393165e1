// qmgr/remover.h - removing finished queue files off the event loop.
//
// unlink(2) of a queue file frees its blocks, and on a filesystem mounted
// with online discard (ext4 -o discard, common on virtual disks) the call
// waits for the device to discard them: about 2.5 ms per file measured on
// the benchmark machine, which alone held qmgr, one event loop, near 400
// messages per second. One worker thread does these unlinks instead.
//
// Guarantees: one thread of a lib/event WorkerPool does the unlinks, in the
// order the files were handed over, and touches nothing else; `done` runs
// on the loop in that order (so the loop logs the removal). The destructor
// removes what was handed over, then joins the thread.
// Crash: a file handed over but not yet removed is still in active/ with
// every recipient done; the next qmgr takes it again and removes it
// (Scheduler::start), so nothing is delivered twice by a process crash.
// Refuses: nothing; an unlink error is reported to `done`.
#pragma once

#include <filesystem>
#include <functional>

#include "lib/event/worker_pool.h"
#include "qmgr/ports.h"

namespace posthorn::qmgr {

class Remover final : public FileRemover {
 public:
  // Panics when the pool cannot start (out of resources at start-up).
  // `busy` is told true when files are handed over and false when every
  // `done` has run (main.cc holds a service Job meanwhile, so that a
  // retiring qmgr logs each removal before it exits).
  Remover(event::EventBase& loop, std::function<void(bool busy)> busy = nullptr);
  ~Remover() override = default;
  Remover(const Remover&) = delete;
  Remover& operator=(const Remover&) = delete;

  void remove(std::filesystem::path path, std::function<void(int error)> done) override;
  // Files handed over whose `done` has not run yet.
  std::size_t pending() const { return pool_.in_flight(); }

 private:
  std::function<void(bool)> busy_;
  event::WorkerPool pool_;
};

}  // namespace posthorn::qmgr

// lib/event/worker_pool.h - blocking work off the event loop.
//
// Purpose:    some steps block for milliseconds however they are written:
//             an fsync (a queue file is durable only after the file's and
//             its directory's), an unlink on a file system mounted with
//             online discard. Done in the event loop, every other client
//             of the process waits for them. The pool runs such work on a
//             few threads and hands each result back to the loop. smtpd
//             writes queue files through one (smtpd_commit_threads), qmgr
//             removes finished queue files through another.
// Guarantees: - work runs on a pool thread, `done` afterwards on the loop
//               thread, from an ordinary loop callback (never inside
//               submit()); the two never overlap for one item;
//             - the threads reach the loop only through a pipe the loop
//               watches: no libevent call is made off the loop thread;
//             - items start in submission order; with N threads, up to N
//               run at once (so their fsyncs overlap); with one thread they
//               also end, and their `done` runs, in submission order;
//             - the destructor runs every item already submitted to its
//               end (a started queue file is finished or removed, never left
//               half-written by us), then joins the threads; `done`
//               callbacks that have not run by then are dropped.
// Refusals:   work must not log (lib/log is not thread-safe) and must not
//             touch loop objects; it gets its inputs in its closure and
//             leaves its result there for `done`.
#pragma once

#include <event2/event.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/fd.h"
#include "lib/event/event_base.h"

namespace posthorn::event {

class WorkerPool {
 public:
  using Fn = std::function<void()>;

  // Starts `threads` threads (at least 1). `name` labels errors that a
  // `done` callback throws (they are logged, as for every loop callback).
  // Panics when the pipe, the event or a thread cannot be made (out of
  // resources at start-up).
  WorkerPool(EventBase& base, unsigned threads, std::string name);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `work` for a pool thread; `done` runs on the loop after it.
  void submit(Fn work, Fn done);
  // Items submitted whose `done` has not run yet.
  std::size_t in_flight() const { return in_flight_; }
  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

 private:
  struct Item {
    Fn work;
    Fn done;
  };
  void worker();
  void on_wake();
  static void trampoline(evutil_socket_t, short, void* arg);

  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queued_;      // guarded by mu_
  std::vector<Item> finished_; // guarded by mu_: work done, `done` due
  bool stopping_ = false;      // guarded by mu_
  bool signalled_ = false;     // guarded by mu_: a byte is in the pipe
  std::size_t in_flight_ = 0;  // loop thread only
  Fd wake_read_, wake_write_;
  Owned<::event, event_free> ev_;
  std::vector<std::thread> workers_;
};

}  // namespace posthorn::event

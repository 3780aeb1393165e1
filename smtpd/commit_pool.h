// smtpd/commit_pool.h - durable queue writes off the event loop.
//
// Purpose:    a queue file is on disk only after two fsyncs (the file, then
//             its directory: lib/queue/writer.h); done in the event loop,
//             every other session of the process would wait for them. The
//             pool runs such work on a few writer threads and hands each
//             result back to the loop, where the session replies.
// Guarantees: - work runs on a writer thread, `done` afterwards on the
//               loop thread, from an ordinary loop callback (never inside
//               submit()); the two never overlap for one item;
//             - the threads reach the loop only through a pipe the loop
//               watches: no libevent call is made off the loop thread;
//             - items start in submission order; with N threads, up to N
//               run at once (so their fsyncs overlap);
//             - the destructor runs every item already submitted to its
//               end (a started queue file is finished or removed, never left
//               half-written by us), then joins the threads; `done`
//               callbacks that have not run by then are dropped.
// Decision:   no group commit in user space (one directory fsync shared by
//             the writers that renamed before it started): measured with
//             bench/smtpd_bench.py at 50 sessions it was slower in every
//             round, since ext4's fsync of a directory already waits only
//             for the journal commit that holds the rename, which concurrent
//             writers share, while waiting for a fresh fsync adds latency.
//             The threads' fsyncs overlap in the kernel instead.
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
#include <thread>
#include <vector>

#include "lib/base/fd.h"
#include "lib/event/event_base.h"

namespace posthorn::smtpd {

class CommitPool {
 public:
  using Fn = std::function<void()>;

  // Starts `threads` writer threads (at least 1). Panics when the pipe,
  // the event or a thread cannot be made (out of resources at start-up).
  CommitPool(event::EventBase& base, unsigned threads);
  ~CommitPool();
  CommitPool(const CommitPool&) = delete;
  CommitPool& operator=(const CommitPool&) = delete;

  // Queues `work` for a writer thread; `done` runs on the loop after it.
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

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> todo_;      // guarded by mu_
  std::vector<Item> finished_; // guarded by mu_: work done, `done` due
  bool stopping_ = false;      // guarded by mu_
  bool signalled_ = false;     // guarded by mu_: a byte is in the pipe
  std::size_t in_flight_ = 0;  // loop thread only
  Fd wake_read_, wake_write_;
  Owned<::event, event_free> ev_;
  std::vector<std::thread> workers_;
};

}  // namespace posthorn::smtpd

// lib/event/event_base.h - the one libevent loop of a process.
//
// Each Posthorn process runs one EventBase. Every other lib/event object
// refers to it and must be destroyed before it. Single-threaded by design.
#pragma once

#include <event2/event.h>

#include <chrono>

#include "lib/base/fd.h"
#include "lib/base/result.h"

namespace posthorn::event {

class EventBase {
 public:
  // Panics when libevent cannot allocate a base (out of memory).
  EventBase();
  EventBase(const EventBase&) = delete;
  EventBase& operator=(const EventBase&) = delete;

  event_base* get() const noexcept { return base_.get(); }

  // Runs until no event is pending or loopexit()/break_loop() is called.
  // Errc::io if libevent reports a failure of its backend.
  Result<void> run();
  // Runs one iteration: waits for at least one event unless `nonblock`.
  Result<void> run_once(bool nonblock = false);
  // Makes run() return after `after` has passed (0: after the callbacks of
  // the current iteration).
  void loopexit(std::chrono::milliseconds after = std::chrono::milliseconds(0));
  // Makes run() return after the callback that is running now.
  void break_loop();

 private:
  Owned<event_base, event_base_free> base_;
};

// A timeval for libevent from a duration (negative counts as zero).
timeval to_timeval(std::chrono::milliseconds d);

}  // namespace posthorn::event

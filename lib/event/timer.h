// lib/event/timer.h - one-shot and periodic timers, cancelled on destruction.
//
// Every wait in Posthorn has a timer (STYLE.md section 6). A Timer is bound
// to one callback; start() arms it (re-arming replaces the previous deadline).
// Neither copyable nor movable: libevent holds its address.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>

#include "lib/base/fd.h"
#include "lib/event/callback.h"
#include "lib/event/event_base.h"

namespace posthorn::event {

class Timer {
 public:
  // `fn` runs on the loop when the timer fires; it may destroy the Timer.
  Timer(EventBase& base, std::function<void()> fn);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() = default;  // event_free removes a pending event first

  // Fires once, `after` from now.
  void start(std::chrono::milliseconds after);
  // Fires every `every` until cancel() or destruction.
  void start_periodic(std::chrono::milliseconds every);
  void cancel();
  bool pending() const;

 private:
  static void trampoline(evutil_socket_t, short, void* arg);
  void arm(std::chrono::milliseconds d, short flags);

  EventBase& base_;
  SharedFn<void()> fn_;
  Owned<::event, event_free> ev_;
};

}  // namespace posthorn::event

// lib/event/signal.h - a signal delivered as a loop callback.
//
// libevent turns the signal into an ordinary callback on the loop, so the
// handler may do anything a callback may (log, reload, stop the loop).
// Only one EventBase per process may watch signals (libevent's rule).
#pragma once

#include <event2/event.h>

#include <functional>

#include "lib/base/fd.h"
#include "lib/event/callback.h"
#include "lib/event/event_base.h"

namespace posthorn::event {

class Signal {
 public:
  // Watches `signo` from now until destruction; `fn` runs for each delivery
  // (several deliveries between two loop iterations may run it once).
  Signal(EventBase& base, int signo, std::function<void()> fn);
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

 private:
  static void trampoline(evutil_socket_t, short, void* arg);
  SharedFn<void()> fn_;
  Owned<::event, event_free> ev_;
};

}  // namespace posthorn::event

// master/read_watch.h - "tell me when this descriptor is readable", armed
// and disarmed at will, for master's on-demand spawning (supervisor.h).
// Does not own the descriptor.
#pragma once

#include <event2/event.h>

#include <functional>

#include "lib/base/fd.h"
#include "lib/event/callback.h"
#include "lib/event/event_base.h"

namespace posthorn::master {

class ReadWatch {
 public:
  // Panics when libevent cannot allocate (out of memory).
  ReadWatch(event::EventBase& base, int fd, std::function<void()> fn);
  ReadWatch(const ReadWatch&) = delete;
  ReadWatch& operator=(const ReadWatch&) = delete;

  void arm(bool on);
  bool armed() const { return armed_; }

 private:
  static void trampoline(evutil_socket_t, short, void* arg);
  event::SharedFn<void()> fn_;
  Owned<::event, event_free> ev_;
  bool armed_ = false;
};

}  // namespace posthorn::master

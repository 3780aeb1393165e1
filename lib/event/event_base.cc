// lib/event/event_base.cc - see event_base.h.
#include "lib/event/event_base.h"

#include "lib/log/log.h"

namespace posthorn::event {

EventBase::EventBase() : base_(event_base_new()) {
  if (!base_) log::panic("event_base_new failed");
}

Result<void> EventBase::run() {
  if (event_base_dispatch(base_.get()) < 0) return make_error(Errc::io, "event loop failed");
  return {};
}

Result<void> EventBase::run_once(bool nonblock) {
  int flags = EVLOOP_ONCE | (nonblock ? EVLOOP_NONBLOCK : 0);
  if (event_base_loop(base_.get(), flags) < 0) return make_error(Errc::io, "event loop failed");
  return {};
}

void EventBase::loopexit(std::chrono::milliseconds after) {
  timeval tv = to_timeval(after);
  event_base_loopexit(base_.get(), &tv);
}

void EventBase::break_loop() { event_base_loopbreak(base_.get()); }

timeval to_timeval(std::chrono::milliseconds d) {
  long long ms = d.count() < 0 ? 0 : d.count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

}  // namespace posthorn::event

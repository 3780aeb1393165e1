// lib/event/timer.cc - see timer.h.
#include "lib/event/timer.h"

#include "lib/log/log.h"

namespace posthorn::event {

Timer::Timer(EventBase& base, std::function<void()> fn)
    : base_(base), fn_(share_fn<void()>(std::move(fn))),
      ev_(event_new(base.get(), -1, 0, &Timer::trampoline, this)) {
  if (!ev_) log::panic("event_new failed for a timer");
}

void Timer::arm(std::chrono::milliseconds d, short flags) {
  // event_assign is only allowed on an event that is not pending.
  event_del(ev_.get());
  event_assign(ev_.get(), base_.get(), -1, flags, &Timer::trampoline, this);
  timeval tv = to_timeval(d);
  event_add(ev_.get(), &tv);
}

void Timer::start(std::chrono::milliseconds after) { arm(after, 0); }

void Timer::start_periodic(std::chrono::milliseconds every) { arm(every, EV_PERSIST); }

void Timer::cancel() { event_del(ev_.get()); }

bool Timer::pending() const { return event_pending(ev_.get(), EV_TIMEOUT, nullptr) != 0; }

void Timer::trampoline(evutil_socket_t, short, void* arg) {
  SharedFn<void()> fn = static_cast<Timer*>(arg)->fn_;  // survives `delete this`
  guarded("timer", [&] { (*fn)(); });
}

}  // namespace posthorn::event

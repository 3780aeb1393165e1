// lib/event/signal.cc - see signal.h.
#include "lib/event/signal.h"

#include "lib/log/log.h"

namespace posthorn::event {

Signal::Signal(EventBase& base, int signo, std::function<void()> fn)
    : fn_(share_fn<void()>(std::move(fn))),
      ev_(evsignal_new(base.get(), signo, &Signal::trampoline, this)) {
  if (!ev_ || event_add(ev_.get(), nullptr) != 0) log::panic("cannot watch signal ", signo);
}

void Signal::trampoline(evutil_socket_t, short, void* arg) {
  SharedFn<void()> fn = static_cast<Signal*>(arg)->fn_;
  guarded("signal", [&] { (*fn)(); });
}

}  // namespace posthorn::event

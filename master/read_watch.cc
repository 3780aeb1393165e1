// master/read_watch.cc - see read_watch.h.
#include "master/read_watch.h"

#include "lib/log/log.h"

namespace posthorn::master {

ReadWatch::ReadWatch(event::EventBase& base, int fd, std::function<void()> fn)
    : fn_(event::share_fn<void()>(std::move(fn))),
      ev_(::event_new(base.get(), fd, EV_READ | EV_PERSIST, &ReadWatch::trampoline, this)) {
  if (!ev_) log::panic("event_new failed for a read watch");
}

void ReadWatch::arm(bool on) {
  if (on == armed_) return;
  armed_ = on;
  if (on)
    ::event_add(ev_.get(), nullptr);
  else
    ::event_del(ev_.get());
}

void ReadWatch::trampoline(evutil_socket_t, short, void* arg) {
  auto fn = static_cast<ReadWatch*>(arg)->fn_;  // keeps it alive if the callback destroys us
  event::guarded("read watch", [&] { (*fn)(); });
}

}  // namespace posthorn::master

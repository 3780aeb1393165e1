// imapd/folder_watch.cc - see folder_watch.h.
#include "imapd/folder_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/base/strings.h"
#include "lib/event/callback.h"
#include "lib/log/log.h"

namespace posthorn::imapd {

FolderWatch::FolderWatch(event::EventBase& base, std::function<void()> changed)
    : base_(base),
      changed_(std::move(changed)),
      delay_(base, [this] { changed_(); }),
      poll_(base, [this] { changed_(); }) {}

FolderWatch::~FolderWatch() { stop(); }

void FolderWatch::stop() {
  ev_.reset();
  inotify_.reset();
  delay_.cancel();
  poll_.cancel();
  active_ = false;
}

void FolderWatch::start(const std::filesystem::path& dir) {
  stop();
  active_ = true;
  Fd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  constexpr std::uint32_t kMask =
      IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
  bool ok = fd.valid();
  for (const char* sub : {"new", "cur"})
    if (ok && ::inotify_add_watch(fd.get(), (dir / sub).c_str(), kMask) < 0) ok = false;
  if (!ok) {
    log::warn("inotify on ", dir.string(), ": ", std::strerror(errno), "; polling every ",
              kPoll.count(), "ms instead");
    poll_.start_periodic(kPoll);
    return;
  }
  inotify_ = std::move(fd);
  ev_.reset(event_new(base_.get(), inotify_.get(), EV_READ | EV_PERSIST, &FolderWatch::on_event, this));
  if (!ev_) log::panic("event_new failed for inotify");
  event_add(ev_.get(), nullptr);
}

void FolderWatch::drain() {
  alignas(inotify_event) char buf[4096];
  while (::read(inotify_.get(), buf, sizeof buf) > 0) {
  }
}

void FolderWatch::on_event(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<FolderWatch*>(arg);
  event::guarded("inotify", [&] {
    self->drain();
    if (!self->delay_.pending()) self->delay_.start(kDelay);
  });
}

}  // namespace posthorn::imapd

// imapd/folder_watch.h - telling an IDLE session that its Maildir changed.
//
// Watches the folder's new/ and cur/ with inotify(7): a delivery (a file
// linked or renamed into new/), a flag change (a rename in cur/), an
// expunge (an unlink) all end up there. Events are coalesced: the callback
// runs once, kDelay after the first event of a burst, so a delivery that
// moves a file through two directories costs one rescan. When inotify
// cannot be used (its limits reached), the folder is polled every kPoll
// instead, and a line is logged.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "lib/base/fd.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"

namespace posthorn::imapd {

class FolderWatch {
 public:
  static constexpr std::chrono::milliseconds kDelay{20};
  static constexpr std::chrono::milliseconds kPoll{2000};

  FolderWatch(event::EventBase& base, std::function<void()> changed);
  ~FolderWatch();
  FolderWatch(const FolderWatch&) = delete;
  FolderWatch& operator=(const FolderWatch&) = delete;

  // Starts watching `folder_dir` (replacing an earlier watch).
  void start(const std::filesystem::path& folder_dir);
  void stop();
  bool active() const { return active_; }

 private:
  static void on_event(evutil_socket_t fd, short what, void* arg);
  void drain();

  event::EventBase& base_;
  std::function<void()> changed_;
  Fd inotify_;
  Owned<::event, event_free> ev_;
  event::Timer delay_;
  event::Timer poll_;
  bool active_ = false;
};

}  // namespace posthorn::imapd

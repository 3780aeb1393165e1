// smtpd/qmgr_wakeup.cc - see qmgr_wakeup.h.
#include "smtpd/qmgr_wakeup.h"

#include "lib/auth/client.h"
#include "lib/log/log.h"
#include "lib/queue/trigger.h"

namespace posthorn::smtpd {

QmgrWakeup::QmgrWakeup(event::EventBase& base, std::string socket, bool verbose)
    : base_(base), socket_(std::move(socket)), verbose_(verbose), timer_(base, [this] { send(); }) {}

QmgrWakeup::~QmgrWakeup() = default;

void QmgrWakeup::wake() {
  if (!timer_.pending()) timer_.start(std::chrono::milliseconds(0));
}

void QmgrWakeup::send() {
  if (!client_ || !client_->open()) {
    client_.reset();
    auto fd = auth::connect_nonblocking(socket_);
    if (!fd) {
      if (verbose_) log::info("qmgr wakeup: ", fd.error().detail);
      return;
    }
    client_ = std::make_unique<ipc::Client>(base_, std::move(*fd), ipc::ClientOptions{queue::kQmgrProtocol});
  }
  client_->notify(queue::Wakeup{});
  ++sent_;
}

}  // namespace posthorn::smtpd

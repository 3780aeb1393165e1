// lib/event/listener.cc - see listener.h.
#include "lib/event/listener.h"

#include <cerrno>
#include <cstring>

#include "lib/log/log.h"

namespace posthorn::event {

namespace {
// How long accepting pauses after a failure such as EMFILE: long enough not
// to spin on a readable listening socket, short enough to go unnoticed.
constexpr std::chrono::milliseconds kAcceptRetry{100};
}  // namespace

Listener::Listener(EventBase& base, Fd listening, AcceptFn fn)
    : fn_(share_fn<void(Accepted)>(std::move(fn))),
      retry_(base, [this] {
        if (enabled_) evconnlistener_enable(lev_.get());
      }) {
  evutil_make_socket_nonblocking(listening.get());
  // backlog 0: the socket is already listening.
  lev_.reset(evconnlistener_new(base.get(), &Listener::on_accept, this,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
                                listening.get()));
  if (!lev_) log::panic("evconnlistener_new failed");
  listening.release();  // now owned by lev_
  evconnlistener_set_error_cb(lev_.get(), &Listener::on_error);
}

void Listener::disable() {
  enabled_ = false;
  retry_.cancel();
  evconnlistener_disable(lev_.get());
}

void Listener::enable() {
  enabled_ = true;
  evconnlistener_enable(lev_.get());
}

int Listener::fd() const { return evconnlistener_get_fd(lev_.get()); }

void Listener::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  Accepted a{Fd(fd), {}, 0};
  if (len > 0 && static_cast<size_t>(len) <= sizeof a.peer) {
    std::memcpy(&a.peer, sa, static_cast<size_t>(len));
    a.peer_len = static_cast<socklen_t>(len);
  }
  SharedFn<void(Accepted)> fn = self->fn_;
  guarded("accept", [&] { (*fn)(std::move(a)); });
}

void Listener::on_error(evconnlistener*, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  guarded("accept error", [&] {
    log::warn("accept: ", std::strerror(err), "; pausing ", kAcceptRetry.count(), "ms");
  });
  evconnlistener_disable(self->lev_.get());
  self->retry_.start(kAcceptRetry);
}

}  // namespace posthorn::event

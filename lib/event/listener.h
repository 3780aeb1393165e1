// lib/event/listener.h - accepts connections on a socket that is already
// bound and listening.
//
// master binds every listening socket and hands it to the child at a known
// descriptor number; the child wraps it in a Listener. Accepted sockets are
// non-blocking and close-on-exec. Accept failures (EMFILE, ENFILE, ENOBUFS)
// are logged and accepting pauses for a moment instead of spinning.
#pragma once

#include <event2/listener.h>
#include <sys/socket.h>

#include <functional>

#include "lib/base/fd.h"
#include "lib/event/callback.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"

namespace posthorn::event {

struct Accepted {
  Fd fd;                  // the new connection, owned by the callee
  sockaddr_storage peer;  // the peer's address (AF_UNIX: usually unnamed)
  socklen_t peer_len;
};

class Listener {
 public:
  using AcceptFn = std::function<void(Accepted)>;
  // Takes ownership of `listening` (bound, listen() already called) and
  // starts accepting. Panics if libevent cannot allocate (out of memory).
  Listener(EventBase& base, Fd listening, AcceptFn fn);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Stops and resumes accepting (a child that retires stops first).
  void disable();
  void enable();
  int fd() const;

 private:
  static void on_accept(evconnlistener*, evutil_socket_t, sockaddr*, int, void*);
  static void on_error(evconnlistener*, void*);

  SharedFn<void(Accepted)> fn_;
  Owned<evconnlistener, evconnlistener_free> lev_;
  Timer retry_;
  bool enabled_ = true;
};

}  // namespace posthorn::event

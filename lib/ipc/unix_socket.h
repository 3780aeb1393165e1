// lib/ipc/unix_socket.h - UNIX-domain stream sockets by path.
//
// Permissions on these sockets are the access control between Posthorn's
// programs (private/ for the mail owner, public/ for everyone), so a socket
// never appears at its path with the wrong mode: it is bound under a
// temporary name, chmod'ed, then renamed into place.
#pragma once

#include <sys/types.h>

#include <string>

#include "lib/base/fd.h"
#include "lib/base/result.h"

namespace posthorn::ipc {

// Binds and listens on `path` with permission bits `mode`; close-on-exec.
// A stale socket at `path` (nobody accepts on it) is replaced. Errors:
// Errc::busy if a live server answers there, Errc::exists if `path` is not a
// socket, Errc::invalid if the path is too long for sockaddr_un, Errc::io.
Result<Fd> listen_unix(const std::string& path, mode_t mode, int backlog = 128);

// Connects to `path`; the result is blocking and close-on-exec. Errors:
// Errc::not_found (no such socket), Errc::closed (ECONNREFUSED: nobody
// listens), Errc::permission, Errc::invalid (path too long), Errc::io.
Result<Fd> connect_unix(const std::string& path);

}  // namespace posthorn::ipc

// lib/base/result.cc - names of error codes and errno helpers.
#include "lib/base/result.h"

#include <cerrno>
#include <cstring>

namespace posthorn {

std::string_view errc_name(Errc c) {
  switch (c) {
    case Errc::io: return "io";
    case Errc::not_found: return "not_found";
    case Errc::exists: return "exists";
    case Errc::parse: return "parse";
    case Errc::too_large: return "too_large";
    case Errc::timeout: return "timeout";
    case Errc::closed: return "closed";
    case Errc::protocol: return "protocol";
    case Errc::corrupt: return "corrupt";
    case Errc::permission: return "permission";
    case Errc::unsupported: return "unsupported";
    case Errc::busy: return "busy";
    case Errc::invalid: return "invalid";
  }
  return "unknown";
}

Error sys_error(std::string_view what, int errnum) {
  Errc c = Errc::io;
  if (errnum == ENOENT) c = Errc::not_found;
  else if (errnum == EEXIST) c = Errc::exists;
  else if (errnum == EACCES || errnum == EPERM) c = Errc::permission;
  else if (errnum == EAGAIN || errnum == EWOULDBLOCK || errnum == EBUSY) c = Errc::busy;
  else if (errnum == ETIMEDOUT) c = Errc::timeout;
  std::string d(what);
  d += ": ";
  d += std::strerror(errnum);
  return Error{c, std::move(d)};
}

Error sys_error(std::string_view what) { return sys_error(what, errno); }

}  // namespace posthorn

// lib/ipc/unix_socket.cc - see unix_socket.h.
#include "lib/ipc/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/base/strings.h"

namespace posthorn::ipc {

namespace {

Result<sockaddr_un> make_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path || path.find('\0') != std::string::npos)
    return make_error(Errc::invalid, cat("unusable socket path \"", printable(path), "\""));
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

Result<Fd> new_socket() {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  return fd;
}

}  // namespace

Result<Fd> connect_unix(const std::string& path) {
  auto addr = make_addr(path);
  if (!addr) return std::move(addr).error();
  auto fd = new_socket();
  if (!fd) return fd;
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    int e = errno;
    Error err = sys_error(cat("connect ", path), e);
    if (e == ENOENT) err.code = Errc::not_found;
    if (e == ECONNREFUSED) err.code = Errc::closed;
    if (e == EACCES || e == EPERM) err.code = Errc::permission;
    return err;
  }
  return fd;
}

Result<Fd> listen_unix(const std::string& path, mode_t mode, int backlog) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return make_error(Errc::exists, cat(path, ": exists and is not a socket"));
    if (connect_unix(path)) return make_error(Errc::busy, cat(path, ": a server is listening there"));
  }
  // Bind under a temporary name in the same directory, fix the mode, then
  // rename: the final path never names a socket with the default mode.
  std::string tmp = cat(path, ".", ::getpid(), ".tmp");
  auto addr = make_addr(tmp);
  if (!addr) return make_error(Errc::invalid, cat("socket path too long: ", printable(path)));
  auto fd = new_socket();
  if (!fd) return fd;
  ::unlink(tmp.c_str());
  if (::bind(fd->get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0)
    return sys_error(cat("bind ", tmp));
  if (::chmod(tmp.c_str(), mode) != 0 || ::listen(fd->get(), backlog) != 0 ||
      ::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = sys_error(cat("listen on ", path));
    ::unlink(tmp.c_str());
    return e;
  }
  return fd;
}

}  // namespace posthorn::ipc

// lib/mailstore/lock.cc - see lock.h.
#include "lib/mailstore/lock.h"

#include <fcntl.h>

#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::mailstore {

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, bool wait) {
  auto fd = open_file(path, O_RDWR | O_CREAT, 0600);
  if (!fd) return std::move(fd).error();
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file; l_pid must be 0 for OFD
  int rc;
  do {
    rc = ::fcntl(fd->get(), wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EAGAIN || errno == EACCES)
      return make_error(Errc::busy, cat(path.string(), ": locked by another session"));
    return sys_error(cat("lock ", path.string()));
  }
  return FileLock(std::move(*fd));
}

}  // namespace posthorn::mailstore

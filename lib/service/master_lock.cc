// lib/service/master_lock.cc - see master_lock.h.
#include "lib/service/master_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::service {

namespace {

std::optional<pid_t> read_pid(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  unsigned long long v = 0;
  if (!parse_uint(trim(std::string_view(buf, static_cast<std::size_t>(n))), v) || v == 0 ||
      v > 0x7fffffff)
    return std::nullopt;
  return static_cast<pid_t>(v);
}

}  // namespace

Result<MasterLock> MasterLock::acquire(const std::filesystem::path& data_dir) {
  auto path = data_dir / kMasterLockName;
  auto fd = open_file(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0644);
  if (!fd) return std::move(fd).error();
  if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return sys_error(cat("lock ", path.string()));
    auto pid = read_pid(fd->get());
    return make_error(Errc::busy, cat("the mail system is already running (master pid ",
                                      pid ? std::to_string(*pid) : "unknown", ", lock ",
                                      path.string(), ")"));
  }
  std::string text = cat(::getpid(), "\n");
  if (::ftruncate(fd->get(), 0) != 0) return sys_error(cat("truncate ", path.string()));
  if (::pwrite(fd->get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return sys_error(cat("write ", path.string()));
  return MasterLock(std::move(*fd));
}

Result<std::optional<pid_t>> running_master(const std::filesystem::path& data_dir) {
  auto path = data_dir / kMasterLockName;
  auto fd = open_file(path, O_RDONLY | O_NOFOLLOW);
  if (!fd) {
    if (fd.error().code == Errc::not_found) return std::optional<pid_t>();
    return std::move(fd).error();
  }
  // A shared lock is refused while master holds its exclusive one.
  if (::flock(fd->get(), LOCK_SH | LOCK_NB) == 0) return std::optional<pid_t>();
  if (errno != EWOULDBLOCK) return sys_error(cat("lock ", path.string()));
  auto pid = read_pid(fd->get());
  // Locked but no pid yet: master is between flock and pwrite.
  return std::optional<pid_t>(pid ? *pid : 0);
}

}  // namespace posthorn::service

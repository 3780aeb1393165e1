// lib/service/master_lock.h - the lock that allows one master per spool.
//
// The lock is data_directory/master.lock, held with flock(LOCK_EX) by the
// running master for its whole life, and holding master's pid as text. The
// kernel drops the lock when master's last descriptor of it closes, so a
// master that crashed never leaves a stale lock behind. master releases it
// only after every child has been reaped: "not locked" therefore means no
// Posthorn process of this instance runs (what `posthorn stop` waits for).
// The descriptor is close-on-exec: children never hold it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "lib/base/fd.h"
#include "lib/base/result.h"

namespace posthorn::service {

inline constexpr const char* kMasterLockName = "master.lock";

class MasterLock {
 public:
  // Creates (mode 0644) and locks data_dir/master.lock, then writes our pid
  // into it. Errc::busy when another process holds it (the detail names its
  // pid); Errc::io for other failures.
  static Result<MasterLock> acquire(const std::filesystem::path& data_dir);
  MasterLock(MasterLock&&) = default;
  MasterLock& operator=(MasterLock&&) = default;

 private:
  explicit MasterLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

// The pid of the master that holds the lock in data_dir (0: locked, pid not
// written yet), or nullopt when nobody holds it or there is no lock file. Errc::io when the file exists
// but cannot be examined (for instance, no permission to read it).
Result<std::optional<pid_t>> running_master(const std::filesystem::path& data_dir);

}  // namespace posthorn::service

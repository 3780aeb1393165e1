// lib/mailstore/lock.h - exclusive locks on lock files.
//
// Open file description locks (fcntl F_OFD_SETLK, Linux >= 3.15): like POSIX
// fcntl locks they are released by the kernel when the holder dies and they
// conflict with classic fcntl locks of other programs; unlike them they belong
// to one open() and not to the whole process, so two sessions in one
// event-driven process exclude each other too, and closing some other
// descriptor of the same file does not drop the lock.
#pragma once

#include <filesystem>

#include "lib/base/fd.h"
#include "lib/base/result.h"

namespace posthorn::mailstore {

class FileLock {  // move-only; unlocks (closes) on destruction
 public:
  // Opens `path` (creating it 0600) and locks it exclusively. With wait=false
  // a lock held elsewhere is Errc::busy; with wait=true the call blocks.
  // Errors: Errc::io / permission / not_found from open or fcntl.
  static Result<FileLock> acquire(const std::filesystem::path& path, bool wait);

  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;
  bool held() const noexcept { return fd_.valid(); }
  void release() noexcept { fd_.reset(); }

 private:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace posthorn::mailstore

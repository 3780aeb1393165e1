// local/mbox.cc - see mbox.h.
#include "local/mbox.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

#include "lib/base/fd.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "local/files.h"

namespace posthorn::local {

namespace {

enum class Try { taken, busy, failed };

// What goes wrong, as the text Postfix gives: "cannot update mailbox PATH
// for user NAME. WHY".
std::string cannot(const MboxTarget& t, std::string_view why) {
  if (t.what == "file") return cat("cannot append message to file ", t.path, ": ", why);
  return cat("cannot update mailbox ", t.path, " for user ", t.who.name, ". ", why);
}

// The dot lock PATH.lock. Created and removed with the identity the target
// asks for: root for spool mailboxes (the spool directory is not the
// user's), the recipient otherwise.
class DotLock {
 public:
  explicit DotLock(const MboxTarget& t) : t_(t), path_(t.path + ".lock") {}
  DotLock(const DotLock&) = delete;
  DotLock& operator=(const DotLock&) = delete;
  ~DotLock() { release(); }

  Try take(std::string& why) {
    auto id = identity();
    if (!id) {
      why = id.error().detail;
      return Try::failed;
    }
    Fd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd) {
      held_ = true;
      return Try::taken;
    }
    if (errno == EEXIST) {
      remove_if_stale();
      return Try::busy;
    }
    // No right to create it here: readers that want one cannot have made it
    // either, so the kernel locks alone protect the mailbox.
    if (errno == EACCES || errno == EPERM || errno == EROFS) return Try::taken;
    why = cat("cannot create lock file ", path_, ": ", std::strerror(errno));
    return Try::failed;
  }

  void release() {
    if (!held_) return;
    held_ = false;
    auto id = identity();
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
      log::warn("remove lock file ", path_, ": ", std::strerror(errno));
  }

 private:
  Result<std::optional<EffectiveIdentity>> identity() const {
    if (t_.spool) return std::optional<EffectiveIdentity>();
    auto id = EffectiveIdentity::become(t_.who, true);
    if (!id) return std::move(id).error();
    return std::optional<EffectiveIdentity>(std::move(*id));
  }

  void remove_if_stale() {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) return;
    if (std::time(nullptr) - st.st_mtime <= t_.locks.stale.count()) return;
    if (::unlink(path_.c_str()) == 0) log::warn("removed stale lock file ", path_);
  }

  const MboxTarget& t_;
  std::string path_;
  bool held_ = false;
};

Try kernel_locks(int fd, const LockPolicy& p, std::string& why) {
  if (p.fcntl) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
      if (errno == EAGAIN || errno == EACCES) return Try::busy;
      why = cat("fcntl lock: ", std::strerror(errno));
      return Try::failed;
    }
  }
  if (p.flock && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Try::busy;
    why = cat("flock: ", std::strerror(errno));
    return Try::failed;
  }
  return Try::taken;
}

// Step 1: a spool mailbox is created by root, owned by the recipient.
Result<void> create_spool_mailbox(const MboxTarget& t) {
  Fd fd(::open(t.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    if (errno == EEXIST) return {};
    return sys_error(cat("create ", t.path));
  }
  if (::fchown(fd.get(), t.who.uid, t.who.gid) != 0) {
    Error e = sys_error(cat("chown ", t.path));
    ::unlink(t.path.c_str());
    return e;
  }
  return {};
}

// Step 3: what may be appended to.
Result<bool> check_opened(const MboxTarget& t, int fd, std::uint64_t& size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error(cat("fstat ", t.path));
  if (S_ISCHR(st.st_mode) && t.what == "file") return false;  // /dev/null and friends
  if (!S_ISREG(st.st_mode)) return make_error(Errc::permission, "not a regular file");
  if (st.st_nlink != 1) return make_error(Errc::permission, "file has more than one hard link");
  if (can_switch() && t.what == "mailbox" && st.st_uid != t.who.uid)
    return make_error(Errc::permission, cat("file is owned by uid ", st.st_uid, ", not ", t.who.uid));
  size = static_cast<std::uint64_t>(st.st_size);
  return true;
}

// Step 5; `regular` false: a device, neither synced nor truncated.
Outcome write_message(const MboxTarget& t, int fd, std::string_view data, std::uint64_t size,
                      bool regular) {
  int err = 0;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && regular && ::fsync(fd) != 0) err = errno;
  if (err == 0) return Outcome::sent(cat("delivered to ", t.what == "file" ? "file: " + t.path : "mailbox"));
  if (regular && ::ftruncate(fd, static_cast<off_t>(size)) != 0)
    log::warn("cannot truncate ", t.path, " back to ", size, " bytes: ", std::strerror(errno));
  std::string why = cat("error writing message: ", std::strerror(err));
  if (err == EDQUOT || err == EFBIG) return Outcome::bounced("5.2.2", cannot(t, why));
  return Outcome::deferred("4.3.0", cannot(t, why));
}

}  // namespace

Result<LockPolicy> parse_lock_list(const std::vector<std::string>& words, LockPolicy p) {
  p.fcntl = p.flock = p.dotlock = false;
  for (const std::string& w : words) {
    if (iequals(w, "fcntl")) p.fcntl = true;
    else if (iequals(w, "flock")) p.flock = true;
    else if (iequals(w, "dotlock")) p.dotlock = true;
    else return make_error(Errc::invalid, cat("unknown lock type ", printable(w)));
  }
  return p;
}

Outcome append_mbox(const MboxTarget& t, std::string_view data) {
  if (t.spool && can_switch()) {
    if (auto r = create_spool_mailbox(t); !r) return Outcome::deferred("4.3.0", cannot(t, r.error().detail));
  }
  if (t.make_parents) {
    auto id = EffectiveIdentity::become(t.who, true);
    if (!id) return Outcome::deferred("4.3.0", cannot(t, id.error().detail));
    auto made = make_dirs(std::filesystem::path(t.path).parent_path(), 0700);
    if (!made) return Outcome::deferred("4.3.0", cannot(t, made.error().detail));
  }
  const int attempts = std::max(1, t.locks.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(t.locks.delay);
    std::string why;
    Fd fd;
    {
      auto id = EffectiveIdentity::become(t.who, true);
      if (!id) return Outcome::deferred("4.3.0", cannot(t, id.error().detail));
      fd.reset(::open(t.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    }
    if (!fd) {
      std::string e = errno == ELOOP ? std::string("file is a symbolic link") : std::strerror(errno);
      return Outcome::deferred("4.3.0", cannot(t, cat("cannot open file: ", e)));
    }
    std::uint64_t size = 0;
    auto regular = check_opened(t, fd.get(), size);
    if (!regular) return Outcome::deferred("4.3.0", cannot(t, regular.error().detail));
    // Only regular files are locked (a device such as /dev/null is not).
    DotLock dot(t);
    if (*regular) {
      if (t.locks.dotlock) {
        Try d = dot.take(why);
        if (d == Try::busy) continue;
        if (d == Try::failed) return Outcome::deferred("4.3.0", cannot(t, why));
      }
      Try k = kernel_locks(fd.get(), t.locks, why);
      if (k == Try::busy) continue;
      if (k == Try::failed) return Outcome::deferred("4.3.0", cannot(t, why));
      // The size under the lock: another writer may have appended meanwhile.
      if (auto again = check_opened(t, fd.get(), size); !again)
        return Outcome::deferred("4.3.0", cannot(t, again.error().detail));
      if (t.limit > 0 && size + data.size() > t.limit)
        return Outcome::bounced("5.2.2", cannot(t, cat("mailbox full (size limit ", t.limit, " bytes)")));
    }
    auto id = EffectiveIdentity::become(t.who, true);
    if (!id) return Outcome::deferred("4.3.0", cannot(t, id.error().detail));
    return write_message(t, fd.get(), data, size, *regular);
    // Going out of scope: root again, the dot lock removed (with its own
    // identity), the file closed (the kernel locks go with it).
  }
  return Outcome::deferred("4.2.0", cannot(t, "mailbox is locked: unable to lock for exclusive access"));
}

}  // namespace posthorn::local

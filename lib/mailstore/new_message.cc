// lib/mailstore/new_message.cc - see new_message.h.
#include "lib/mailstore/new_message.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"

namespace posthorn::mailstore {

std::uint64_t crlf_extra(std::string_view data, bool& last_was_cr) {
  std::uint64_t extra = 0;
  for (char c : data) {
    if (c == '\n' && !last_was_cr) ++extra;
    last_was_cr = c == '\r';
  }
  return extra;
}

Result<void> publish(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return {};
  }
  int e = errno;
  if (e != EPERM && e != ENOTSUP && e != ENOSYS && e != EXDEV)
    return sys_error(cat("link ", from.string(), " to ", to.string()), e);
  // XXX: rename() replaces an existing target; names are unique, and this
  // path is only taken where the file system has no hard links.
  if (::rename(from.c_str(), to.c_str()) != 0)
    return sys_error(cat("rename ", from.string(), " to ", to.string()));
  return {};
}

NewMessage::NewMessage(std::filesystem::path dir, std::string unique, Fd fd)
    : dir_(std::move(dir)), tmp_(dir_ / "tmp" / unique), unique_(std::move(unique)),
      fd_(std::move(fd)) {}

NewMessage::NewMessage(NewMessage&& o) noexcept
    : dir_(std::move(o.dir_)), tmp_(std::move(o.tmp_)), unique_(std::move(o.unique_)),
      fd_(std::move(o.fd_)), size_(o.size_), extra_(o.extra_), date_(o.date_),
      last_cr_(o.last_cr_), has_date_(o.has_date_) {
  o.tmp_.clear();
}

NewMessage::~NewMessage() {
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Result<NewMessage> NewMessage::create(const std::filesystem::path& folder_dir) {
  // A clash means another process produced the same name (clock stepped back,
  // pid reused); a fresh name (the sequence number moves on) fixes it.
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string unique = unique_base();
    auto fd = open_file(folder_dir / "tmp" / unique, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd) return NewMessage(folder_dir, std::move(unique), std::move(*fd));
    if (fd.error().code != Errc::exists) return std::move(fd).error();
  }
  return make_error(Errc::io, cat("no unique name in ", folder_dir.string(), "/tmp"));
}

Result<void> NewMessage::write(std::string_view chunk) {
  if (!fd_) return make_error(Errc::invalid, "message already finished");
  if (auto w = write_all(fd_.get(), chunk); !w) return w;
  size_ += chunk.size();
  extra_ += crlf_extra(chunk, last_cr_);
  return {};
}

Result<void> NewMessage::set_internal_date(std::int64_t seconds) {
  if (!fd_) return make_error(Errc::invalid, "message already finished");
  date_ = seconds;
  has_date_ = true;
  return {};
}

Result<void> NewMessage::finish() {
  if (!fd_) return {};
  if (has_date_) {  // after the last write, which would move the mtime again
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(date_);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    if (::futimens(fd_.get(), ts) != 0) return sys_error(cat("futimens ", tmp_.string()));
  }
  if (::fsync(fd_.get()) != 0) return sys_error(cat("fsync ", tmp_.string()));
  fd_.reset();
  return {};
}

std::string NewMessage::base() const { return cat(unique_, ",S=", size_, ",W=", vsize()); }

Result<std::string> NewMessage::deliver() {
  if (auto f = finish(); !f) return std::move(f).error();
  std::string name = base();
  if (auto p = publish(tmp_, dir_ / "new" / name); !p) return std::move(p).error();
  tmp_.clear();
  if (auto s = fsync_dir(dir_ / "new"); !s) return std::move(s).error();
  return name;
}

}  // namespace posthorn::mailstore

// tools/postdrop/drop_file.cc - see drop_file.h.
#include "tools/postdrop/drop_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/queue/codec.h"

namespace posthorn::postdrop {

namespace {

// FORMAT.md "Life of a file": writers' temporary files are ".tmp.PID.N";
// remove_stale_temporaries() knows them by that prefix.
constexpr std::string_view kTempPrefix = ".tmp.";

struct Temp {
  Fd fd;
  std::filesystem::path path;
};

Result<Temp> create_temp(const std::filesystem::path& dir) {
  std::random_device rd;
  for (int tries = 0;; ++tries) {
    std::filesystem::path p = dir / cat(kTempPrefix, ::getpid(), ".", rd());
    auto fd = open_file(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd) return Temp{std::move(*fd), std::move(p)};
    if (fd.error().code != Errc::exists || tries >= 8) return std::move(fd).error();
  }
}

Result<queue::QueueId> fill(const Temp& t, const queue::Envelope& env, std::string_view body) {
  struct stat st;
  if (::fstat(t.fd.get(), &st) != 0) return sys_error(cat("fstat ", t.path.string()));
  queue::QueueId id = queue::make_queue_id(static_cast<std::uint64_t>(st.st_ino));
  queue::Envelope e = env;
  e.arrival_us = static_cast<std::int64_t>(id.micros());
  auto parts = queue::encode_parts(id, e, {}, body);
  if (!parts) return std::move(parts).error();
  for (std::string_view piece : {std::string_view(parts->head), std::string_view(parts->mid), body,
                                 std::string_view(parts->tail)})
    if (auto w = write_all(t.fd.get(), piece); !w)
      return make_error(Errc::io, cat(t.path.string(), ": ", w.error().detail));
  if (::fchmod(t.fd.get(), kDropFileMode) != 0) return sys_error(cat("fchmod ", t.path.string()));
  if (::fsync(t.fd.get()) != 0) return sys_error(cat("fsync ", t.path.string()));
  return id;
}

// The rename into place made durable: fsync of the directory when we may
// open it, else syncfs() (see drop_file.h).
Result<void> sync_rename(int fd, const std::filesystem::path& dir) {
  auto ok = fsync_dir(dir);
  if (ok || ok.error().code != Errc::permission) return ok;
  if (::syncfs(fd) != 0) return sys_error(cat("syncfs ", dir.string()));
  return {};
}

}  // namespace

Result<queue::QueueId> write_drop_file(const queue::Spool& spool, const queue::Envelope& env,
                                       std::string_view body) {
  const std::filesystem::path dir = spool.dir(queue::QueueName::maildrop);
  auto tmp = create_temp(dir);
  if (!tmp) return std::move(tmp).error();
  auto id = fill(*tmp, env, body);
  if (!id) {
    ::unlink(tmp->path.c_str());
    return std::move(id).error();
  }
  const std::filesystem::path final_path = dir / id->str();
  if (queue::rename_noreplace(tmp->path, final_path) != 0) {
    Error e = sys_error(cat("rename ", tmp->path.string(), " to ", final_path.string()));
    ::unlink(tmp->path.c_str());
    return e;
  }
  // Not durable means not accepted: the file goes, so that the caller's
  // retry cannot make a second copy.
  if (auto ok = sync_rename(tmp->fd.get(), dir); !ok) {
    ::unlink(final_path.c_str());
    return std::move(ok).error();
  }
  return *id;
}

}  // namespace posthorn::postdrop

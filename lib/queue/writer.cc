// lib/queue/writer.cc - see writer.h.
#include "lib/queue/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ctime>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/queue/codec.h"

namespace posthorn::queue {
namespace {

constexpr std::string_view kTempPrefix = ".tmp.";

struct TempFile {
  Fd fd;
  std::filesystem::path path;
};

// Step 1: a fresh temporary file; O_EXCL so two writers never share one.
// The name is the process ID and a counter of this process (its threads
// share it); a name left by an earlier process with the same ID only costs
// another try.
Result<TempFile> create_temp(const std::filesystem::path& dir, mode_t mode) {
  static std::atomic<std::uint64_t> counter{0};
  for (int tries = 0;; ++tries) {
    std::filesystem::path p = dir / cat(kTempPrefix, ::getpid(), ".", counter.fetch_add(1));
    auto fd = open_file(p, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd) return TempFile{std::move(*fd), std::move(p)};
    if (fd.error().code != Errc::exists || tries >= 8) return std::move(fd).error();
  }
}

// Steps 2-3 on an open temporary file (written, not yet synced): returns the
// ID the file was written under.
Result<QueueId> fill(const TempFile& tmp, Envelope env, std::string_view headers,
                     std::string_view body, mode_t mode) {
  struct stat st;
  if (::fstat(tmp.fd.get(), &st) != 0) return sys_error(cat("fstat ", tmp.path.string()));
  QueueId id = make_queue_id(static_cast<std::uint64_t>(st.st_ino));
  if (env.arrival_us == 0) env.arrival_us = static_cast<std::int64_t>(id.micros());
  auto parts = encode_parts(id, env, headers, body);
  if (!parts) return std::move(parts).error();
  for (std::string_view piece : {std::string_view(parts->head), headers,
                                 std::string_view(parts->mid), body, std::string_view(parts->tail)})
    if (auto w = write_all(tmp.fd.get(), piece); !w)
      return make_error(Errc::io, cat(tmp.path.string(), ": ", w.error().detail));
  // The umask must not decide who may read queued mail.
  if (::fchmod(tmp.fd.get(), mode) != 0) return sys_error(cat("fchmod ", tmp.path.string()));
  return id;
}

}  // namespace

Result<QueueId> write_queue_file(const Spool& spool, const Envelope& env, std::string_view headers,
                                 std::string_view body, WriteOptions opts) {
  std::filesystem::path dir = spool.dir(opts.queue);
  auto tmp = create_temp(dir, opts.mode);
  if (!tmp) return std::move(tmp).error();
  auto id = fill(*tmp, env, headers, body, opts.mode);
  if (!id) {
    ::unlink(tmp->path.c_str());
    return std::move(id).error();
  }
  // Step 4: publish. Never replace: an existing file of that name is
  // another message (see queue_id.h), and replacing it would lose it.
  std::filesystem::path final_path = dir / id->str();
  if (rename_noreplace(tmp->path, final_path) != 0) {
    Error err = sys_error(cat("rename ", tmp->path.string(), " to ", final_path.string()));
    ::unlink(tmp->path.c_str());
    return err;  // EEXIST is Errc::exists
  }
  // Step 5. If the file or its name cannot be made durable we report
  // failure, so the file must go too: otherwise the client's retry would
  // make a duplicate.
  auto fail = [&](Error e) -> Result<QueueId> {
    ::unlink(final_path.c_str());
    (void)fsync_dir(dir);
    return e;
  };
  if (::fsync(tmp->fd.get()) != 0) return fail(sys_error(cat("fsync ", final_path.string())));
  tmp->fd.reset();
  if (auto ok = fsync_dir(dir); !ok) return fail(std::move(ok).error());
  return *id;
}

Result<std::size_t> remove_stale_temporaries(const Spool& spool, QueueName queue,
                                             std::chrono::seconds age) {
  std::error_code ec;
  std::filesystem::directory_iterator it(spool.dir(queue), ec);
  if (ec) return make_error(Errc::io, cat("open ", spool.dir(queue).string(), ": ", ec.message()));
  std::time_t cutoff = std::time(nullptr) - static_cast<std::time_t>(age.count());
  std::size_t removed = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(Errc::io, cat("read ", spool.dir(queue).string(), ": ", ec.message()));
    const std::filesystem::path& p = it->path();
    if (p.filename().string().rfind(kTempPrefix, 0) != 0) continue;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_mtime > cutoff) continue;
    if (::unlink(p.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace posthorn::queue

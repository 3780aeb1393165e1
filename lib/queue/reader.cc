// lib/queue/reader.cc - see reader.h.
#include "lib/queue/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::queue {
namespace {

// Like read_file(), but for files a hostile user may have placed (maildrop/):
// a symlink is not followed (it could point at another user's queue file),
// and a FIFO or device is refused without blocking on it (O_NONBLOCK), so
// neither can stall or fool pickup. Both are Errc::corrupt: quarantine them.
Result<std::string> read_regular_file(const std::filesystem::path& path, std::size_t max_bytes) {
  auto fd = open_file(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!fd) {
    Error e = std::move(fd).error();
    if (errno == ELOOP) e.code = Errc::corrupt;  // O_NOFOLLOW met a symlink
    return e;
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(cat("fstat ", path.string()));
  if (!S_ISREG(st.st_mode)) return make_error(Errc::corrupt, cat(path.string(), ": not a regular file"));
  if (static_cast<unsigned long long>(st.st_size) > max_bytes)
    return make_error(Errc::too_large, cat(path.string(), ": larger than ", max_bytes, " bytes"));
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd->get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read ", path.string()));
    if (n == 0) break;  // shrank meanwhile: the parser will see a truncated file
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace

Result<QueueFile> read_queue_file(const std::filesystem::path& path, ReadOptions opts) {
  auto bytes = read_regular_file(path, opts.max_bytes);
  if (!bytes) return std::move(bytes).error();
  auto qf = parse_queue_file(*bytes);
  if (!qf) {
    Error e = std::move(qf).error();
    e.detail = cat(path.string(), ": ", e.detail);
    return e;
  }
  if (qf->id.str() != path.filename().string())
    return make_error(Errc::corrupt, cat(path.string(), ": file name does not match queue ID ",
                                         qf->id.str()));
  return qf;
}

Result<void> quarantine(const Spool& spool, QueueName from, std::string_view name, const Error& why) {
  auto moved = move_file(spool, name, from, QueueName::corrupt);
  log::Record r{log::Level::warn, "corrupt", printable(name), {}, {}};
  if (moved)
    r.text = cat("damaged queue file moved from ", queue_dir_name(from), "/ to corrupt/: ", why.detail);
  else
    r.text = cat("damaged queue file in ", queue_dir_name(from), "/ could not be moved to corrupt/ (",
                 moved.error().detail, "): ", why.detail);
  log::emit(r);
  return moved;
}

Result<QueueFile> load_queue_file(const Spool& spool, QueueName queue, const QueueId& id,
                                  ReadOptions opts) {
  auto qf = read_queue_file(spool.file(queue, id), opts);
  if (!qf && qf.error().code == Errc::corrupt) {
    Error e = std::move(qf).error();
    (void)quarantine(spool, queue, id.str(), e);  // logged either way
    return e;
  }
  return qf;
}

}  // namespace posthorn::queue

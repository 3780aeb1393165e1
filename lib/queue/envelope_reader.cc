// lib/queue/envelope_reader.cc - see envelope_reader.h.
#include "lib/queue/envelope_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/queue/codec.h"

namespace posthorn::queue {
namespace {

// Most envelopes (a sender, a few recipients, the client) fit in one read.
constexpr std::uint64_t kFirstRead = 4096;

// Extends `buf` with the file's bytes up to `want`. A file that ends earlier
// than fstat said was cut short while we read it: queue files never shrink,
// so that is damage, not a race.
Result<void> read_up_to(int fd, const std::filesystem::path& path, std::string& buf,
                        std::uint64_t want) {
  std::size_t have = buf.size();
  buf.resize(static_cast<std::size_t>(want));
  while (have < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + have, buf.size() - have, static_cast<off_t>(have));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read ", path.string()));
    if (n == 0) return make_error(Errc::corrupt, cat(path.string(), ": shorter than its size"));
    have += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<QueueEnvelope> read_queue_envelope(const std::filesystem::path& path, ReadOptions opts) {
  // As read_queue_file(): never follow a symlink, never block on a FIFO.
  auto fd = open_file(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!fd) {
    Error e = std::move(fd).error();
    if (errno == ELOOP) e.code = Errc::corrupt;
    return e;
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(cat("fstat ", path.string()));
  if (!S_ISREG(st.st_mode)) return make_error(Errc::corrupt, cat(path.string(), ": not a regular file"));
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > opts.max_bytes)
    return make_error(Errc::too_large, cat(path.string(), ": larger than ", opts.max_bytes, " bytes"));
  std::string buf;
  std::uint64_t want = std::min(size, kFirstRead);
  for (;;) {
    if (auto ok = read_up_to(fd->get(), path, buf, want); !ok) return std::move(ok).error();
    auto r = parse_queue_envelope(buf, size);
    if (!r) {
      Error e = std::move(r).error();
      e.detail = cat(path.string(), ": ", e.detail);
      return e;
    }
    if (r->need_bytes == 0) {
      if (r->id.str() != path.filename().string())
        return make_error(Errc::corrupt, cat(path.string(), ": file name does not match queue ID ",
                                             r->id.str()));
      return QueueEnvelope{r->id, std::move(r->env), r->message_size, size,
                           static_cast<std::int64_t>(st.st_mtime)};
    }
    // need_bytes is past what we have and within the file: the loop ends.
    want = std::min(size, std::max<std::uint64_t>(r->need_bytes, 2 * buf.size()));
  }
}

}  // namespace posthorn::queue

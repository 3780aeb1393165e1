// lib/queue/recipient_update.cc - see recipient_update.h.
#include "lib/queue/recipient_update.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/fd.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/queue/codec.h"

namespace posthorn::queue {
namespace {

// The 5 bytes before a status block are its record's type and length; reading
// them back is a cheap check that we are about to write into a recipient record.
Result<void> check_record_at(int fd, const std::filesystem::path& path, std::uint64_t offset) {
  char hdr[5];
  if (offset < sizeof hdr) return make_error(Errc::corrupt, cat(path.string(), ": bad status offset"));
  ssize_t n;
  do {
    n = ::pread(fd, hdr, sizeof hdr, static_cast<off_t>(offset - sizeof hdr));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error(cat("pread ", path.string()));
  if (n != sizeof hdr || hdr[0] != 'R')
    return make_error(Errc::corrupt, cat(path.string(), ": no recipient record at offset ", offset));
  return {};
}

Result<void> pwrite_all(int fd, const std::filesystem::path& path, const char* data, std::size_t len,
                        std::uint64_t offset) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("pwrite ", path.string()));
    data += n;
    len -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

}  // namespace

Result<void> update_recipients(const std::filesystem::path& path, QueueFile& qf,
                               const std::vector<RecipientUpdate>& updates, Sync sync) {
  for (const RecipientUpdate& u : updates) {
    if (u.index >= qf.env.recipients.size())
      return make_error(Errc::invalid, cat("recipient index ", u.index, " out of range"));
    if (static_cast<unsigned>(u.status.state) > 3 || (u.status.flags & ~kKnownStatusFlags) != 0)
      return make_error(Errc::invalid, "recipient status the format cannot hold");
  }
  // O_RDWR without O_CREAT: a file that vanished is not recreated.
  auto fd = open_file(path, O_RDWR);
  if (!fd) return std::move(fd).error();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(cat("fstat ", path.string()));
  if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != qf.file_size)
    return make_error(Errc::corrupt, cat(path.string(), ": not the file that was read (size changed)"));
  for (const RecipientUpdate& u : updates) {
    std::uint64_t at = qf.env.recipients[u.index].status_offset;
    if (auto ok = check_record_at(fd->get(), path, at); !ok) return ok;
    auto block = encode_status(u.status);
    if (auto ok = pwrite_all(fd->get(), path, block.data(), block.size(), at); !ok) return ok;
  }
  if (sync == Sync::now && ::fdatasync(fd->get()) != 0) return sys_error(cat("fdatasync ", path.string()));
  for (const RecipientUpdate& u : updates) qf.env.recipients[u.index].status = u.status;
  return {};
}

Result<void> sync_recipients(const std::filesystem::path& path) {
  auto fd = open_file(path, O_RDWR);
  if (!fd) return std::move(fd).error();
  if (::fdatasync(fd->get()) != 0) return sys_error(cat("fdatasync ", path.string()));
  return {};
}

Result<void> update_recipient(const std::filesystem::path& path, QueueFile& qf, std::size_t index,
                              const RecipientStatus& status) {
  return update_recipients(path, qf, {RecipientUpdate{index, status}});
}

Result<void> mark_recipient_done(const std::filesystem::path& path, QueueFile& qf, std::size_t index,
                                 RcptState final_state, std::int64_t now) {
  if (final_state != RcptState::delivered && final_state != RcptState::bounced)
    return make_error(Errc::invalid, "a recipient is done only when delivered or bounced");
  if (index >= qf.env.recipients.size())
    return make_error(Errc::invalid, cat("recipient index ", index, " out of range"));
  RecipientStatus s = qf.env.recipients[index].status;
  s.state = final_state;
  s.attempts += 1;
  s.last_attempt = now;
  s.next_attempt = 0;
  return update_recipient(path, qf, index, s);
}

}  // namespace posthorn::queue

// lib/queue/reader.h - reading queue files, which are untrusted input.
//
// A queue file may have been damaged by a disk, an administrator, a bug or a
// hostile local user (maildrop/). read_queue_file() never crashes on any
// content and never allocates more than the file's size (codec.h). A file that
// is damaged goes to corrupt/ with a warning that names it (quarantine()), so
// one bad file never stops the queue.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "lib/base/result.h"
#include "lib/queue/codec.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/spool.h"

namespace posthorn::queue {

struct ReadOptions {
  // Files larger than this are refused unread (Errc::too_large); set it above
  // message_size_limit plus the envelope.
  std::size_t max_bytes = std::size_t{1} << 30;
};

// Reads and parses the file at `path`. Its file name must be the queue ID it
// holds (a file renamed by hand or misplaced is corrupt). A symlink, FIFO or
// device is never followed or opened for reading: Errc::corrupt. Errors:
// Errc::corrupt (damaged; detail says where and what), Errc::unsupported (another format
// version), Errc::not_found, Errc::too_large, Errc::io.
Result<QueueFile> read_queue_file(const std::filesystem::path& path, ReadOptions opts = {});

// Moves file `name` from `from` to corrupt/ (never replacing a file there) and
// logs a warning led by the name, with `why.detail`. Errors from the move
// (the file may have gone meanwhile: Errc::not_found).
Result<void> quarantine(const Spool& spool, QueueName from, std::string_view name, const Error& why);

// What qmgr and the queue tools call: read_queue_file() of queue file `id` in
// `queue`; a corrupt file is quarantined and Errc::corrupt returned. Other
// errors (version from a newer build, too large, I/O) leave the file in place.
Result<QueueFile> load_queue_file(const Spool& spool, QueueName queue, const QueueId& id,
                                  ReadOptions opts = {});

}  // namespace posthorn::queue

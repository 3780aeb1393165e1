// lib/queue/writer.h - writing a new queue file under the durability contract.
//
// The contract (ARCHITECTURE.md "The queue"): when write_queue_file() returns
// a QueueId, the complete file is on disk under its final name and survives
// a crash; the caller may now answer 250 (smtpd) or remove the maildrop file
// (pickup). When it returns an error, no file is left behind and the message
// counts as not accepted. A file is complete before it gets a queue-ID name,
// so a reader never sees a partial one while the system runs.
//
// Steps, each a crash window closed by the next:
//   1. create a temporary file ".tmp.PID.N" in the target directory (O_EXCL);
//      names starting with '.' never parse as queue IDs, so qmgr ignores them
//   2. take its inode and the time: the queue ID (queue_id.h)
//   3. write the whole file
//   4. rename it to its ID, never replacing an existing file
//   5. fsync the file, then the directory: the data and the rename reach the
//      disk together (on a journalling file system the file's fsync commits
//      the rename too and the directory's costs nothing more; syncing the
//      file before the rename would take two commits per message)
// A crash of the process during 1-3 leaves a temporary file, which
// remove_stale_temporaries() deletes. An operating-system crash before 5 has
// ended can leave the ID name with a torn or empty file; the reader rejects
// it (the end record and its checksum, FORMAT.md) and it goes to corrupt/.
// Either way the client has not seen 250 and sends again: nothing accepted
// is lost.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string_view>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/spool.h"

namespace posthorn::queue {

struct WriteOptions {
  QueueName queue = QueueName::incoming;  // maildrop for postdrop
  mode_t mode = 0600;                     // permission bits of the new file
};

// Writes a new queue file for `env` with content headers + body (see
// QueueFile) and returns its ID. env.arrival_us is taken from the ID when 0.
// Recipient statuses are stored as given (normally pending). Errors:
// Errc::invalid / Errc::too_large for envelopes the format cannot hold (see
// encode_queue_file); for a failing system call Errc::io, or Errc::permission
// / Errc::not_found as errno says (detail names the call and the file);
// Errc::exists if the ID were already taken (see queue_id.h). On every error
// no file is left in the directory.
Result<QueueId> write_queue_file(const Spool& spool, const Envelope& env, std::string_view headers,
                                 std::string_view body, WriteOptions opts = {});

// Deletes temporary files in `queue` that are older than `age`: they belong to
// writers that crashed. Call at start-up (qmgr for incoming/, pickup for
// maildrop/). Returns how many were removed.
Result<std::size_t> remove_stale_temporaries(const Spool& spool, QueueName queue,
                                             std::chrono::seconds age);

}  // namespace posthorn::queue

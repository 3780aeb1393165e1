// pickup/pickup.h - taking locally submitted mail out of maildrop/.
//
// Purpose:    turn each maildrop file (pickup/MAILDROP.md) into a queue file
//             in incoming/ through lib/cleanup, as local submission
//             (Origin::local: Received "from userid N", missing Date,
//             Message-ID and From added).
// Guarantees: - a maildrop file is removed only after cleanup's queue file
//               is durable in incoming/ (a crash in between queues the
//               message twice, never zero times);
//             - the submitting uid is the owner of the open file (fstat),
//               never anything the file says;
//             - every file is hostile: one that is not a complete, valid
//               maildrop file, or that cleanup refuses, goes to corrupt/ with
//               a warning and the scan goes on with the next file.
// Refusals:   no file is followed through a symbolic link or opened when it
//             is a FIFO or device; a file is never read past its limit.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/cleanup/cleanup.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/spool.h"

namespace posthorn::pickup {

struct Settings {
  cleanup::CleanupSettings cleanup;  // origin, uid and full name are set per file
  std::size_t max_file_bytes = std::size_t{1} << 30;
};

// message_size_limit (plus room for the envelope) as the file limit, and
// cleanup's settings from main.cf.
Settings settings_from_config(const config::Config& cfg);

enum class Outcome {
  queued,       // in incoming/; the maildrop file is gone
  quarantined,  // moved to corrupt/ (or could not be, and said so)
  gone,         // the file vanished before it was read
  retry,        // left in maildrop/ for a later scan (read error, newer format)
  write_error,  // left in maildrop/: the queue file could not be written
};

struct FileResult {
  Outcome outcome;
  queue::QueueId queue_id;  // queued: the new queue file
  std::string detail;       // why, for retry and quarantined
};

// Handles maildrop file `name`. Logs what it did, Postfix-style
// ("ID: uid=1000 from=<alice@example.org>").
FileResult pickup_file(const queue::Spool& spool, std::string_view name, const Settings& s);

struct ScanResult {
  std::size_t queued = 0, quarantined = 0, retry = 0;
};

// Handles every file in maildrop/ (oldest queue ID first), quarantines names
// that are not queue IDs, and removes writers' temporary files older than
// an hour. A write error stops the scan early (the disk is likely full; the
// next wake-up tries again). Errors: only when maildrop/ cannot be read.
Result<ScanResult> scan_maildrop(const queue::Spool& spool, const Settings& s);

}  // namespace posthorn::pickup

// tools/postdrop/drop_file.h - writing one maildrop file (pickup/MAILDROP.md).
//
// The same steps as queue::write_queue_file() (temporary name, ID from the
// inode, write, fsync, rename without replacing), with one difference that
// is the reason this exists: postdrop runs with the maildrop group, which
// may create files in maildrop/ (1730) but not read the directory, so the
// directory cannot be opened for the fsync that makes the rename durable.
// When it cannot, syncfs(2) on the new file's descriptor commits the file
// system's metadata instead, the new directory entry included.
//
// Guarantee: when write_drop_file() returns an ID, the complete file is in
// maildrop/ under that name and survives a crash. On an error no file is
// left under a queue-ID name; a temporary file is removed where possible
// (pickup removes stale ones otherwise).
#pragma once

#include <sys/types.h>

#include <string_view>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/queue_id.h"
#include "lib/queue/spool.h"

namespace posthorn::postdrop {

// Mode of a finished maildrop file: owner = the submitting user (pickup reads
// it from fstat), readable by pickup through the "other" bits. Nobody else
// reaches it: maildrop/ grants others nothing.
inline constexpr mode_t kDropFileMode = 0444;

// Writes `env` with content `body` (headers empty, see MAILDROP.md) into
// maildrop/ of `spool`. Errors: Errc::not_found (no maildrop/),
// Errc::permission, Errc::io (naming the call and the file), and the
// encoder's Errc::invalid / Errc::too_large.
Result<queue::QueueId> write_drop_file(const queue::Spool& spool, const queue::Envelope& env,
                                       std::string_view body);

}  // namespace posthorn::postdrop

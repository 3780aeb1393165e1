// lib/queue/recipient_update.h - recording a recipient's fate in its queue file, in place.
//
// Each recipient has a fixed-size status block at a fixed offset (FORMAT.md),
// so recording "delivered" is one pwrite(2) of 24 bytes and one fdatasync(2)
// (the blocks never change the file's size, and its times are not part of
// the contract: a deferred file's mtime is only a hint), never a rewrite of
// the file. The block is outside the file's checksum. The
// state byte comes first and is one byte: a write torn by a crash leaves the
// old or the new state, both valid. Call this before the next delivery
// attempt begins (ARCHITECTURE.md): a crash then repeats at most the attempt
// that was in flight.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"

namespace posthorn::queue {

// When the status blocks reach the disk.
enum class Sync {
  now,    // before update_recipients() returns (the rule)
  later,  // the caller removes the file next, or calls sync_recipients()
          // before it does anything else with it (FORMAT.md, "Life of a
          // file": the last statuses of a message that is then removed)
};

struct RecipientUpdate {
  std::size_t index;  // into qf.env.recipients
  RecipientStatus status;
};

// Writes each update's status block into the file at `path`, which must be the
// file `qf` was read from (same size, a recipient record where qf says), then
// syncs once (unless `sync` is Sync::later). On success qf's recipients hold the new statuses. Errors:
// Errc::invalid (index out of range, a status the format cannot hold),
// Errc::corrupt (the file is not the one qf describes), Errc::not_found,
// Errc::io. On error the file may hold some of the updates, each complete or
// not at all.
Result<void> update_recipients(const std::filesystem::path& path, QueueFile& qf,
                               const std::vector<RecipientUpdate>& updates, Sync sync = Sync::now);

// Brings status blocks written with Sync::later to the disk. Errors:
// Errc::not_found, Errc::io.
Result<void> sync_recipients(const std::filesystem::path& path);

// One recipient: update_recipients() with a single entry.
Result<void> update_recipient(const std::filesystem::path& path, QueueFile& qf, std::size_t index,
                              const RecipientStatus& status);

// Marks recipient `index` done: delivered, or bounced (a bounce notice has been
// recorded), with attempts incremented and last_attempt = `now` (unix seconds).
// Errc::invalid if `final_state` is not delivered or bounced.
Result<void> mark_recipient_done(const std::filesystem::path& path, QueueFile& qf, std::size_t index,
                                 RcptState final_state, std::int64_t now);

}  // namespace posthorn::queue

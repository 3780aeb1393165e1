// lib/queue/envelope_reader.h - a queue file's envelope, without its content.
//
// Listing a queue (`posthorn queue list`, mailq) needs the sender, the
// recipients with their status, the arrival time and the message size: all
// in the records before the content (FORMAT.md; the meta record carries the
// size for this reason). read_queue_envelope() reads only those bytes, so a
// listing costs the same for a 1 KB message and a 50 MB one.
//
// Guarantees: the same refusals as read_queue_file() for what it reads (the
// file is untrusted: no symlink or FIFO is followed or opened, every record
// is checked, allocation is bounded by the file's size), plus a check that
// the file's size is what the records announce. Not verified: the checksum
// and the content, which are not read. A file that passes here may still be
// refused by read_queue_file() (a flipped bit in the content); readers that
// act on the content (qmgr, `posthorn queue show`) use read_queue_file().
//
// Never modifies, moves or quarantines anything: listing the queue must not
// change it. Callers decide what to do with Errc::corrupt.
#pragma once

#include <cstdint>
#include <filesystem>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/reader.h"

namespace posthorn::queue {

struct QueueEnvelope {
  QueueId id;
  Envelope env;                    // recipients with status_offset set
  std::uint64_t message_size = 0;  // headers + body, from the meta record
  std::uint64_t file_size = 0;
  std::int64_t mtime = 0;          // the file's modification time, unix seconds
};

// Reads the envelope of the queue file at `path`, whose name must be the
// queue ID it holds. Reads the first 4 KiB and more only when the envelope
// is longer. Errors: Errc::corrupt (damaged, or not a regular file; detail
// names the file and what is wrong), Errc::unsupported (another format
// version), Errc::not_found (gone: moved or removed meanwhile),
// Errc::too_large (larger than opts.max_bytes), Errc::permission, Errc::io.
Result<QueueEnvelope> read_queue_envelope(const std::filesystem::path& path, ReadOptions opts = {});

}  // namespace posthorn::queue

// qmgr/notes.h - the durable note of an expanded recipient's settled
// destinations.
//
// Why: qmgr does virtual alias expansion when it resolves a recipient (Postfix
// does it in cleanup), so one queue-file recipient may stand for several final
// addresses, while the queue file has one status block for it. The recipient
// is marked done only when every one of its destinations is settled
// (delivered or bounced). When some settle and others are deferred, the next
// attempt must not deliver the settled ones again, even after a crash or a
// restart; this note remembers them. (Writing the expansion as a new queue
// file, as local does for aliases, would have qmgr expand the new file's
// recipients again: an alias that keeps itself, "a -> a, b", would loop.)
//
// Where and what: defer/ID.expanded beside the defer reason log (the spool
// layout has no directory of qmgr's own; the name is no queue ID, so nothing
// else reads it). Text, append-only, one line per settled destination:
//   v1 INDEX STATE ADDRESS
// STATE is "sent" or "bounced", ADDRESS percent-encoded (every byte outside
// 0x21..0x7E, and '%', as %XX). A line that does not parse (a torn last line
// after a crash) is skipped: that destination is delivered again, which is
// the attempt that was in flight.
//
// Durability: appended with fsync (and a directory fsync when created) before
// the recipient's deferred status is written; removed with the message. A
// note whose message is gone (deleted by the queue tools) is removed by
// remove_orphan_notes() at qmgr's start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_id.h"
#include "lib/queue/spool.h"

namespace posthorn::qmgr {

struct NoteEntry {
  std::uint32_t index = 0;  // recipient index in the queue file
  bool bounced = false;     // false: sent
  std::string address;      // the final address that was settled
  bool operator==(const NoteEntry&) const = default;
};

// One entry as a line (no newline) and back; Errc::parse when malformed.
std::string format_note(const NoteEntry& e);
Result<NoteEntry> parse_note(std::string_view line);

// Every well-formed entry of the note of `id`; empty when there is none.
Result<std::vector<NoteEntry>> read_notes(const queue::Spool& spool, const queue::QueueId& id);
// Appends `entries` durably (see above). Errors: Errc::io, Errc::permission.
Result<void> append_notes(const queue::Spool& spool, const queue::QueueId& id,
                          const std::vector<NoteEntry>& entries);
// Removes the note; a missing one is success.
Result<void> remove_notes(const queue::Spool& spool, const queue::QueueId& id);
// Removes notes whose message is in none of incoming/, active/, deferred/,
// hold/; returns how many.
std::size_t remove_orphan_notes(const queue::Spool& spool);

}  // namespace posthorn::qmgr

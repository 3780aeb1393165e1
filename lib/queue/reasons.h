// lib/queue/reasons.h - per-message logs of why recipients were deferred or
// bounced: defer/ID and bounce/ID under the spool (Postfix keeps the same two
// directories for the same purpose).
//
// The queue file's status blocks say *whether* a recipient is done; these
// logs say *why* an attempt failed, for the DSN that qmgr composes
// (lib/bounce) and for `posthorn queue list` (the deferral reason, each
// recipient's last error). qmgr is the only writer (lib/deliver/protocol.h);
// the queue tools only read.
//
// Format (one file per message, append-only, text): one record per line,
//   v1 TIME INDEX DSN RELAY ADDRESS TEXT
// separated by single spaces, where TIME is unix seconds (decimal, '-' for a
// time before 1970), INDEX the recipient's index in the queue file (decimal),
// and DSN, RELAY, ADDRESS and TEXT are percent-encoded (every byte outside
// 0x21..0x7E, and '%', as %XX with upper-case hex digits), so a record is
// always one line of printable ASCII whatever the peer said; an empty string
// is an empty field. Every record has exactly one form (numbers without
// leading zeros, no needless %XX): format_reason_line(parse_reason_line(l))
// == l for every line the parser accepts.
//
// Torn lines: a record is written with one write(2) of the line and its
// '\n'. A crash can leave a last line without its '\n'; a reader skips it
// (and every other line it cannot parse) and counts it, and the next append
// first cuts the file back to its last '\n', so a torn fragment never joins
// the record after it. For a recipient, the last record wins.
//
// Durability: a bounce record is fsynced before qmgr marks the recipient
// bounced (so a DSN always has its reason); defer records are not (a lost
// one only loses a reason text of a recipient still pending).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_id.h"
#include "lib/queue/spool.h"

namespace posthorn::queue {

// read_reasons() refuses larger files: 64 MiB is some 300,000 records.
inline constexpr std::size_t kMaxReasonsFile = std::size_t{64} << 20;

struct Reason {
  std::int64_t time = 0;      // unix seconds of the attempt
  std::uint32_t index = 0;    // recipient index in the queue file
  std::string dsn;            // "4.4.1", "5.1.1"
  std::string relay;          // "mx.example.org[192.0.2.1]:25", "local", "none"
  std::string address;        // the recipient the attempt was for
  std::string text;           // "connect to ...: Connection refused"
  bool operator==(const Reason&) const = default;
};

// Which log: QueueName::defer or QueueName::bounce (anything else:
// Errc::invalid, for every function below).
// Appends one record to LOG/ID (created 0600 when missing; a torn last line
// is cut off first). With `durable` the file is fsynced (and its directory,
// when the file was new) before the call returns. Errors: Errc::io,
// Errc::permission, Errc::not_found (no LOG directory).
Result<void> append_reason(const Spool& spool, QueueName log, const QueueId& id, const Reason& r,
                           bool durable);

// Every well-formed record of LOG/ID in file order; an empty list when the
// file does not exist. `skipped`, when given, is set to the number of lines
// left out (malformed, another version, or a last line without '\n').
// Errors: Errc::io, Errc::permission, Errc::too_large (over kMaxReasonsFile).
Result<std::vector<Reason>> read_reasons(const Spool& spool, QueueName log, const QueueId& id,
                                         std::size_t* skipped = nullptr);

// The last record per recipient index, ordered by index (a record later in
// `all` wins over an earlier one for the same index, whatever their times).
std::vector<Reason> latest_per_recipient(const std::vector<Reason>& all);

// Removes LOG/ID; a missing file is success. Errors: Errc::io, Errc::permission.
Result<void> remove_reasons(const Spool& spool, QueueName log, const QueueId& id);

// The records of a whole log's text, as read_reasons() finds them; `skipped`
// as there. Never fails: any byte string is some list of records.
std::vector<Reason> parse_reasons(std::string_view text, std::size_t* skipped = nullptr);

// One record as a line (without the newline) and back; exposed for tests and
// the fuzzer. parse_reason_line: Errc::corrupt for anything malformed.
std::string format_reason_line(const Reason& r);
Result<Reason> parse_reason_line(std::string_view line);

}  // namespace posthorn::queue

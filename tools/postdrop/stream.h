// tools/postdrop/stream.h - what postdrop reads on standard input and what
// it keeps of it (pickup/MAILDROP.md).
//
// The stream is a queue file (lib/queue/FORMAT.md) whose ID postdrop
// ignores. It is untrusted (anyone may run postdrop): parse_queue_file()
// refuses anything damaged or cut short (its end record and CRC), and only
// the fields a maildrop file may carry are kept; every other field is reset.
#pragma once

#include <cstddef>
#include <string>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"

namespace posthorn::postdrop {

// Room for the envelope records beside the message in a stream.
inline constexpr std::size_t kEnvelopeAllowance = std::size_t{1} << 20;

// Reads `fd` to its end. Errc::too_large as soon as more than `max_bytes`
// arrived (the rest is not read), Errc::io for a failing read.
Result<std::string> read_stream(int fd, std::size_t max_bytes);

struct Submission {
  queue::Envelope env;  // MAILDROP.md's fields only; arrival 0, statuses pending
  std::string content;  // the whole message
};

// Errc::parse (detail says why) for a stream the queue-file parser refuses,
// Errc::unsupported for another format version.
Result<Submission> accept_stream(std::string_view bytes);

}  // namespace posthorn::postdrop

// smtp/content.h - the message as it goes over the wire after DATA or BDAT.
#pragma once

#include <string>
#include <string_view>

namespace posthorn::smtp {

// The DATA stream for `message` (headers and body as stored in the queue
// file): every line ends in CRLF (a bare LF becomes CRLF; a bare CR is left
// as it is), a line starting with "." gets another "." (RFC 5321 4.5.2), a
// missing final line break is added, and ".\r\n" ends it. A line longer
// than `line_limit` octets (smtp_line_length_limit; 0 = no limit) is broken
// by inserting CRLF and a space, as Postfix does (RFC 5322 2.1.1 allows 998;
// the space keeps a broken header line a continuation line).
std::string data_stream(std::string_view message, std::size_t line_limit = 0);

// The same lines for BDAT (RFC 3030): CRLF line ends, long lines broken,
// a final line break added, but no dot-stuffing and no ".\r\n": the chunk
// size tells the server where the message ends.
std::string chunk_stream(std::string_view message, std::size_t line_limit = 0);

// True when `s` holds an octet above 127.
bool has_8bit(std::string_view s);

}  // namespace posthorn::smtp

// smtp/content.h - the message as it goes over the wire after DATA.
#pragma once

#include <string>
#include <string_view>

namespace posthorn::smtp {

// The DATA stream for `message` (headers and body as stored in the queue
// file): every line ends in CRLF (a bare LF becomes CRLF; a bare CR is left
// as it is), a line starting with "." gets another "." (RFC 5321 4.5.2), a
// missing final line break is added, and ".\r\n" ends it.
std::string data_stream(std::string_view message);

// True when `s` holds an octet above 127.
bool has_8bit(std::string_view s);

}  // namespace posthorn::smtp

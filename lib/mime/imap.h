// lib/mime/imap.h - the IMAP renderings of a parsed message: strings, ENVELOPE
// and BODY / BODYSTRUCTURE (RFC 3501 7.4.2 grammar).
//
// Text from headers is sent as given (encoded words are not decoded), so
// what a client sees is what the message holds. Sizes are wire sizes (every
// line break counted as CRLF), as RFC822.SIZE and BODY[] will send them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lib/mime/message.h"

namespace posthorn::mime {

// An IMAP string: a quoted string ("..." with \" and \\ escaped) when `s`
// holds only 7-bit text without CR, LF and NUL, otherwise a literal
// "{n}\r\n" followed by the octets.
std::string imap_string(std::string_view s);
// imap_string, or NIL when `s` is absent.
std::string imap_nstring(std::optional<std::string_view> s);

// ENVELOPE of the message whose header is part `idx` (0, or the child of a
// message/rfc822 part): (date subject from sender reply-to to cc bcc
// in-reply-to message-id). Sender and Reply-To default to From (RFC 3501
// 7.4.2). Addresses are (name adl mailbox host); a group is
// (NIL NIL "name" NIL) ... (NIL NIL NIL NIL). An address that cannot be
// parsed becomes mailbox "MISSING_MAILBOX" / host "MISSING_DOMAIN" with its
// text as the name; an unqualified one gets host "MISSING_DOMAIN".
std::string envelope(const Message& msg, std::size_t idx = 0);

// BODYSTRUCTURE (extended = true: md5 NIL, disposition, language, location
// for every part) or BODY (extended = false) of part `idx`.
std::string body_structure(const Message& msg, bool extended, std::size_t idx = 0);

}  // namespace posthorn::mime

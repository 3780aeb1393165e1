// pop3d/transfer.h - a stored message as POP3 sends it (RFC 1939 section 3).
//
// Guarantees:
// - every line ends in CR LF: a bare LF becomes CR LF, a CR LF stays as it
//   is, and a last line without a line end gets one; nothing else changes
//   (a bare CR is sent as it is). So the bytes sent, without the stuffing
//   and the end marker, number exactly the message's CRLF size (Maildir
//   ",W=", lib/mailstore Message::vsize) when the message ends in a line end;
// - a line that starts with "." gets one more "." in front (byte-stuffing),
//   the first line included;
// - the text ends with the terminating "." CR LF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posthorn::pop3d {

// Appends `message` to `out` in the form above. With `body_lines` set (TOP),
// only the header section, the empty line that ends it and that many lines
// of the body are sent; a message without an empty line is all header.
void append_transfer(std::string& out, std::string_view message,
                     std::optional<std::uint64_t> body_lines = {});

}  // namespace posthorn::pop3d

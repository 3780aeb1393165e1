// lib/mime/transfer.h - Content-Transfer-Encodings (RFC 2045 6.7 and 6.8).
//
// Encoders produce lines of at most 76 characters with the given line break;
// decoders are tolerant (they keep going) and say when the input was not
// clean, so a caller can log it.
#pragma once

#include <string>
#include <string_view>

namespace posthorn::mime {

// Quoted-printable for text: CRLF and bare LF in `in` are hard line breaks
// and come out as `eol`; "=", control octets (but TAB), a bare CR and 8-bit
// octets become =XX; a space or TAB before a line break (or at the end) is
// encoded; longer lines get soft breaks ("=" eol).
std::string qp_encode(std::string_view in, std::string_view eol = "\r\n");

struct Decoded {
  std::string data;
  bool clean = true;  // false: invalid "=" sequences (kept as they were) or garbage
};

// Quoted-printable decode: =XX (either case), soft breaks ("=" then optional
// white space, then a line break), trailing white space on lines dropped
// (RFC 2045 6.7 rule 3). Line breaks are kept as they appear in `in`.
Decoded qp_decode(std::string_view in);

// Base64 with `eol` after every 76 characters and at the end (no eol for
// empty input). `eol` empty: one line.
std::string base64_encode(std::string_view in, std::string_view eol = "\r\n");

// Base64 decode ignoring white space; other characters outside the alphabet,
// data after the padding, and a truncated last group make `clean` false
// (the octets that could be decoded are returned).
Decoded base64_decode(std::string_view in);

}  // namespace posthorn::mime

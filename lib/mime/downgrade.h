// lib/mime/downgrade.h - 8-bit mail made 7-bit for a server that does not
// announce 8BITMIME (RFC 6152), the way Postfix's smtp client does unless
// disable_mime_output_conversion is set.
#pragma once

#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::mime {

struct Downgraded {
  std::string message;       // the converted message
  bool changed = false;      // false: `message` is the input unchanged (it was 7-bit)
  bool header_8bit = false;  // some header holds 8-bit octets, which no encoding here fixes
};

// Converts `message`:
//   - every leaf part (not multipart, not an encapsulated message/rfc822)
//     whose body holds 8-bit octets and whose Content-Transfer-Encoding is
//     7bit, 8bit, binary or absent gets a quoted-printable body and a
//     "Content-Transfer-Encoding: quoted-printable" header field in place of
//     the old one; this includes the top part of a non-MIME message, which
//     also gets "MIME-Version: 1.0";
//   - a multipart or message/rfc822 part labelled 8bit or binary is relabelled
//     7bit (its content is converted part by part);
//   - everything else, the multipart structure and the line-break style of
//     the message (CRLF or LF, from its first line) is kept. 8-bit octets in
//     a preamble or epilogue, or in a body labelled base64 or
//     quoted-printable, are left alone: they are not content (or are broken
//     already), and Postfix leaves them too.
// Errors: Errc::too_large when the message nests deeper than kMaxDepth or
// has more than kMaxParts parts (Postfix: mime_nesting_limit), since such a
// message cannot be converted part by part.
Result<Downgraded> downgrade_8bit(std::string_view message);

}  // namespace posthorn::mime

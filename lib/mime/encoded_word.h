// lib/mime/encoded_word.h - RFC 2047 encoded words in header text, decoded
// for SEARCH and display.
#pragma once

#include <string>
#include <string_view>

namespace posthorn::mime {

// Decodes every encoded word ("=?charset?Q|B?text?=", RFC 2047 2 and 4, with
// an RFC 2231 "*language" suffix on the charset allowed) of an unfolded
// header value. White space between two adjacent encoded words is dropped
// (RFC 2047 6.2). Charsets utf-8, us-ascii and iso-8859-1 (latin1) come out
// as UTF-8; a word in any other charset, or one that is malformed, is left
// as it is. Text outside encoded words is copied unchanged.
std::string decode_header_text(std::string_view value);

}  // namespace posthorn::mime

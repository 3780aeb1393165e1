// lib/address/utf8.h - UTF-8 validation for addresses (RFC 3629 section 4).
//
// Refuses what RFC 3629 forbids: overlong forms (C0, C1, E0 80-9F, F0 80-8F),
// UTF-16 surrogates (ED A0-BF), code points above U+10FFFF (F4 90+, F5-FF),
// stray continuation bytes and sequences cut short.
#pragma once

#include <string_view>

namespace posthorn::address {

// True when `s` is entirely valid UTF-8 (ASCII included).
bool valid_utf8(std::string_view s);
// True when `s` has an octet >= 0x80.
bool has_non_ascii(std::string_view s);

}  // namespace posthorn::address

// lib/ipc/codec.cc - integer text for codec.h (PROTOCOL.md "Values").
//
// Integers are canonical decimal: "0", or a non-zero digit followed by
// digits, with "-" before a negative value. No "+", no leading zeros, no
// "-0", no spaces: one value has exactly one spelling, so a relay of a
// frame cannot change its meaning.
#include "lib/ipc/codec.h"

#include <charconv>

namespace posthorn::ipc::detail {

namespace {
bool canonical_digits(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return s == "0" || s[0] != '0';
}
}  // namespace

Result<unsigned long long> parse_unsigned(std::string_view s, unsigned long long max) {
  if (!canonical_digits(s)) return make_error(Errc::protocol, "not a canonical decimal integer");
  unsigned long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max)
    return make_error(Errc::protocol, cat("integer out of range (max ", max, ")"));
  return v;
}

Result<long long> parse_signed(std::string_view s, long long min, long long max) {
  bool neg = !s.empty() && s[0] == '-';
  std::string_view digits = neg ? s.substr(1) : s;
  if (!canonical_digits(digits) || (neg && digits == "0"))
    return make_error(Errc::protocol, "not a canonical decimal integer");
  unsigned long long mag = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), mag);
  // The magnitude of min is max + 1 for two's complement types.
  unsigned long long limit = neg ? static_cast<unsigned long long>(-(min + 1)) + 1
                                 : static_cast<unsigned long long>(max);
  if (ec != std::errc() || p != digits.data() + digits.size() || mag > limit)
    return make_error(Errc::protocol, cat("integer out of range (", min, "..", max, ")"));
  if (!neg) return static_cast<long long>(mag);
  return mag == limit && limit > static_cast<unsigned long long>(max)
             ? min
             : -static_cast<long long>(mag);
}

}  // namespace posthorn::ipc::detail

// lib/mime/date.h - RFC 5322 date-time (3.3), as in the Date: field.
//
// Tolerant as readers must be (RFC 5322 4.3 obsolete syntax): the day name
// is optional, comments and extra white space are skipped, two- and
// three-digit years are 1900/2000-based (4.3), seconds are optional, and
// the zone may be a numeric offset or one of the obsolete names (UT, GMT,
// EST..PDT, military letters as -0000). Refused: anything else, and
// out-of-range fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace posthorn::mime {

struct DateTime {
  int year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0, minute = 0, second = 0;
  int zone_minutes = 0;  // east of UTC
  // Seconds since the epoch (UTC).
  std::int64_t to_time() const;
};

std::optional<DateTime> parse_date_time(std::string_view value);

}  // namespace posthorn::mime

// lib/mime/date.cc - see date.h.
#include "lib/mime/date.h"

#include <string>
#include <vector>

#include "lib/base/strings.h"

namespace posthorn::mime {
namespace {

constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};

// Days since 1970-01-01 of a calendar date (proleptic Gregorian).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

// Words of the value: comments dropped, split at white space and commas;
// ':' stays inside words (times), '+'/'-' start a word (zones).
std::vector<std::string> words(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  auto end_word = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (char c : v) {
    if (depth > 0) {
      if (c == '(') ++depth;
      else if (c == ')') --depth;
      continue;
    }
    if (c == '(') {
      end_word();
      depth = 1;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
      end_word();
    } else {
      cur += c;
    }
  }
  end_word();
  return out;
}

bool number(std::string_view s, int& out, std::size_t min_len, std::size_t max_len) {
  if (s.size() < min_len || s.size() > max_len) return false;
  unsigned long long n = 0;
  if (!parse_uint(s, n)) return false;
  out = static_cast<int>(n);
  return true;
}

std::optional<int> zone(std::string_view z) {
  if ((z[0] == '+' || z[0] == '-') && z.size() == 5) {
    int hh, mm;
    if (!number(z.substr(1, 2), hh, 2, 2) || !number(z.substr(3, 2), mm, 2, 2) || mm > 59)
      return std::nullopt;
    int v = hh * 60 + mm;
    return z[0] == '-' ? -v : v;
  }
  struct Named {
    const char* name;
    int minutes;
  };
  static constexpr Named kZones[] = {{"UT", 0},        {"GMT", 0},       {"Z", 0},
                                     {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60},
                                     {"CDT", -5 * 60}, {"MST", -7 * 60}, {"MDT", -6 * 60},
                                     {"PST", -8 * 60}, {"PDT", -7 * 60}};
  for (const auto& n : kZones)
    if (iequals(z, n.name)) return n.minutes;
  // RFC 5322 4.3: other alphabetic zones mean -0000 (unknown).
  if (z.size() <= 5 && z.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ==
                           std::string_view::npos)
    return 0;
  return std::nullopt;
}

bool time_of_day(std::string_view t, DateTime& dt) {
  std::vector<std::string> parts = split(t, ':');
  if (parts.size() < 2 || parts.size() > 3) return false;
  if (!number(parts[0], dt.hour, 1, 2) || !number(parts[1], dt.minute, 2, 2)) return false;
  if (parts.size() == 3 && !number(parts[2], dt.second, 2, 2)) return false;
  return dt.hour <= 23 && dt.minute <= 59 && dt.second <= 60;
}

}  // namespace

std::int64_t DateTime::to_time() const {
  std::int64_t days = days_from_civil(year, month, day);
  return days * 86400 + hour * 3600 + minute * 60 + second - zone_minutes * 60;
}

std::optional<DateTime> parse_date_time(std::string_view value) {
  std::vector<std::string> w = words(value);
  std::size_t i = 0;
  // An optional day name ("Mon"); its comma was a separator.
  if (i < w.size() && w[i].size() >= 3 && !(w[i][0] >= '0' && w[i][0] <= '9')) ++i;
  if (w.size() < i + 4) return std::nullopt;
  DateTime dt;
  if (!number(w[i], dt.day, 1, 2) || dt.day < 1 || dt.day > 31) return std::nullopt;
  dt.month = 0;
  for (int m = 0; m < 12; ++m)
    if (w[i + 1].size() >= 3 && iequals(std::string_view(w[i + 1]).substr(0, 3), kMonths[m]))
      dt.month = m + 1;
  if (dt.month == 0) return std::nullopt;
  if (!number(w[i + 2], dt.year, 2, 4)) return std::nullopt;
  if (w[i + 2].size() == 2) dt.year += dt.year < 50 ? 2000 : 1900;
  else if (w[i + 2].size() == 3) dt.year += 1900;
  if (!time_of_day(w[i + 3], dt)) return std::nullopt;
  if (w.size() > i + 4) {
    auto z = zone(w[i + 4]);
    if (!z) return std::nullopt;
    dt.zone_minutes = *z;
  }
  return dt;
}

}  // namespace posthorn::mime

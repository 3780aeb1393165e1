// imapd/format.cc - see format.h.
#include "imapd/format.h"

#include <algorithm>
#include <cstdio>

#include "lib/base/strings.h"
#include "lib/mailstore/keywords.h"
#include "lib/mailstore/names.h"
#include "lib/mime/imap.h"

namespace posthorn::imapd {
namespace {

using namespace posthorn::mailstore;

struct SystemFlag {
  std::string_view name;
  unsigned bit;
};
// Output order of FLAGS: RFC 3501's order, then $Forwarded.
constexpr SystemFlag kFlags[] = {
    {"\\Answered", kReplied}, {"\\Flagged", kFlagged}, {"\\Deleted", kTrashed},
    {"\\Seen", kSeen},        {"\\Draft", kDraft},
};
constexpr std::string_view kForwarded = "$Forwarded";

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_index(std::string_view m) {
  for (int i = 0; i < 12; ++i)
    if (iequals(m, kMonths[i])) return i;
  return -1;
}

bool digits(std::string_view s, std::size_t n, int& out) {
  if (s.size() != n) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

Error bad_date() { return make_error(Errc::parse, "Invalid date"); }

// "d-Mon-yyyy" / "dd-Mon-yyyy" into its parts.
bool split_date(std::string_view s, int& d, int& m, int& y) {
  std::size_t a = s.find('-');
  if (a == std::string_view::npos || s.size() != a + 9 || s[a + 4] != '-') return false;
  std::string_view day = s.substr(0, a);
  if (!(digits(day, 1, d) || digits(day, 2, d)) || d < 1 || d > 31) return false;
  m = month_index(s.substr(a + 1, 3));
  return m >= 0 && digits(s.substr(a + 5), 4, y);
}

Result<void> add_flag(const Value& v, FlagSet& set) {
  if (!v.is_atom() || v.text.empty())
    return make_error(Errc::parse, "Flags must be atoms");
  const std::string& t = v.text;
  if (t[0] == '\\') {
    if (iequals(t, "\\Recent")) return {};
    for (const auto& f : kFlags) {
      if (iequals(t, f.name)) {
        set.flags |= f.bit;
        return {};
      }
    }
    return make_error(Errc::parse, cat("Invalid system flag ", t));  // an atom: printable
  }
  if (iequals(t, kForwarded)) {
    set.flags |= kPassed;
    return {};
  }
  if (!valid_keyword(t)) return make_error(Errc::parse, cat("Invalid keyword ", t));
  auto same = [&](const std::string& k) { return iequals(k, t); };
  if (std::none_of(set.keywords.begin(), set.keywords.end(), same)) set.keywords.push_back(t);
  return {};
}

}  // namespace

std::string system_flag_names() {
  std::string out;
  for (const auto& f : kFlags) out += cat(f.name, " ");
  return out + std::string(kForwarded);
}

std::string flag_list(unsigned flags, const std::vector<std::string>& keywords, bool recent) {
  std::string out = "(";
  auto add = [&](std::string_view s) {
    if (out.size() > 1) out += ' ';
    out += s;
  };
  for (const auto& f : kFlags)
    if (flags & f.bit) add(f.name);
  if (flags & kPassed) add(kForwarded);
  for (const auto& k : keywords) add(k);
  if (recent) add("\\Recent");
  return out + ")";
}

Result<FlagSet> parse_flags(const Value& v) {
  if (v.is_list()) return parse_flag_values(v.items, 0);
  FlagSet set;
  if (auto r = add_flag(v, set); !r) return r.error();
  return set;
}

Result<FlagSet> parse_flag_values(const std::vector<Value>& vs, std::size_t from) {
  FlagSet set;
  for (std::size_t i = from; i < vs.size(); ++i)
    if (auto r = add_flag(vs[i], set); !r) return r.error();
  return set;
}

std::string format_date_time(std::int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  localtime_r(&tt, &tm);
  long off = tm.tm_gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                off / 60, off % 60);
  return buf;
}

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil algorithm.
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Result<std::int64_t> parse_date_time(std::string_view s) {
  // "dd-Mon-yyyy hh:mm:ss +zzzz", the day possibly " d".
  if (s.size() == 26 && s[0] == ' ') s.remove_prefix(1);
  if (s.size() != 26 && s.size() != 25) return bad_date();
  std::size_t sp = s.find(' ');
  int d, m, y, hh, mm, ss, zh, zm;
  if (sp == std::string_view::npos || !split_date(s.substr(0, sp), d, m, y)) return bad_date();
  std::string_view time = s.substr(sp + 1);
  if (time.size() != 14 || time[2] != ':' || time[5] != ':' || time[8] != ' ') return bad_date();
  if (!digits(time.substr(0, 2), 2, hh) || !digits(time.substr(3, 2), 2, mm) ||
      !digits(time.substr(6, 2), 2, ss) || (time[9] != '+' && time[9] != '-') ||
      !digits(time.substr(10, 2), 2, zh) || !digits(time.substr(12, 2), 2, zm))
    return bad_date();
  if (hh > 23 || mm > 59 || ss > 60 || zm > 59) return bad_date();
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(m + 1), static_cast<unsigned>(d));
  std::int64_t t = days * 86400 + hh * 3600 + mm * 60 + ss;
  std::int64_t zone = (zh * 60 + zm) * 60;
  return time[9] == '+' ? t - zone : t + zone;
}

Result<std::int64_t> parse_date(std::string_view s) {
  int d, m, y;
  std::size_t a = s.find('-');
  if (a == std::string_view::npos || !split_date(s, d, m, y)) return bad_date();
  return days_from_civil(y, static_cast<unsigned>(m + 1), static_cast<unsigned>(d));
}

std::int64_t local_day(std::int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  localtime_r(&tt, &tm);
  return days_from_civil(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1),
                         static_cast<unsigned>(tm.tm_mday));
}

std::string quote(std::string_view s) { return mime::imap_string(s); }

std::string mailbox_astring(std::string_view name) { return mime::imap_string(name); }

std::string quote_utf8(std::string_view s) {
  if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return mime::imap_string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace posthorn::imapd

// lib/mailstore/uidlist.cc - see uidlist.h and FORMAT.md.
//
// Parsing walks the text once with string_views (no per-line strings): a
// large folder's list is read at every SELECT.
#include "lib/mailstore/uidlist.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_set>

#include "lib/base/strings.h"

namespace posthorn::mailstore {
namespace {

constexpr std::string_view kMagic = "posthorn-uidlist ";

Error corrupt(std::size_t line, std::string_view why) {
  return make_error(Errc::corrupt, cat("posthorn-uidlist line ", line, ": ", why));
}

// Takes the next field (up to a space, or to the end) from `s`.
std::string_view take_field(std::string_view& s) {
  std::size_t sp = s.find(' ');
  std::string_view f = s.substr(0, sp);
  s.remove_prefix(sp == std::string_view::npos ? s.size() : sp + 1);
  return f;
}

// Decimal digits only (no sign, no spaces), within uint64.
bool number(std::string_view f, unsigned long long& out) {
  if (f.empty()) return false;
  auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
  return ec == std::errc() && p == f.data() + f.size();
}

// Takes the next space-terminated field from `s` as an unsigned number.
bool take_number(std::string_view& s, unsigned long long& out) {
  std::size_t sp = s.find(' ');
  if (sp == std::string_view::npos || !number(s.substr(0, sp), out)) return false;
  s.remove_prefix(sp + 1);
  return true;
}

Result<UidEntry> parse_entry(std::string_view s, std::size_t lineno, int version) {
  unsigned long long uid, date, size, vsize;
  if (!take_number(s, uid) || !take_number(s, date) || !take_number(s, size) ||
      !take_number(s, vsize))
    return corrupt(lineno, "bad entry");
  if (uid == 0 || uid > std::numeric_limits<std::uint32_t>::max() ||
      date > static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max()))
    return corrupt(lineno, "number out of range");
  bool in_new = false;
  if (version == 2) {
    if (s.size() < 2 || (s[0] != 'n' && s[0] != 'c') || s[1] != ' ')
      return corrupt(lineno, "bad directory");
    in_new = s[0] == 'n';
    s.remove_prefix(2);
  }
  std::size_t colon = version == 2 ? s.find(':') : std::string_view::npos;
  std::string_view base = s.substr(0, colon);
  std::string_view info = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
  if (base.empty() || !storable_base(s)) return corrupt(lineno, "bad file name");
  return UidEntry{static_cast<std::uint32_t>(uid), static_cast<std::int64_t>(date), size, vsize,
                  std::string(base), std::string(info), in_new};
}

// "<sec>.<nsec>" within int64.
bool parse_time(std::string_view f, std::int64_t& sec, std::int64_t& nsec) {
  std::size_t dot = f.find('.');
  unsigned long long s, n;
  constexpr auto kMax = static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max());
  if (dot == std::string_view::npos || !number(f.substr(0, dot), s) ||
      !number(f.substr(dot + 1), n) || s > kMax || n >= 1000000000)
    return false;
  sec = static_cast<std::int64_t>(s);
  nsec = static_cast<std::int64_t>(n);
  return true;
}

// "-" or "<ino>:<sec>.<nsec>:<csec>.<cnsec>" (mtime, then ctime).
bool parse_stamp(std::string_view f, DirStamp& out) {
  if (f == "-") return true;
  std::size_t a = f.find(':');
  std::size_t b = a == std::string_view::npos ? a : f.find(':', a + 1);
  if (b == std::string_view::npos) return false;
  DirStamp st;
  st.valid = true;
  unsigned long long ino;
  if (!number(f.substr(0, a), ino) || !parse_time(f.substr(a + 1, b - a - 1), st.sec, st.nsec) ||
      !parse_time(f.substr(b + 1), st.csec, st.cnsec))
    return false;
  st.ino = ino;
  out = st;
  return true;
}

std::string format_stamp(const DirStamp& s) {
  if (!s.valid) return "-";
  return cat(s.ino, ":", s.sec, ".", s.nsec, ":", s.csec, ".", s.cnsec);
}

// Line 1; returns the version (1 or 2), 0 when the header is bad.
int parse_header(std::string_view s, Uidlist& out) {
  if (s.substr(0, kMagic.size()) != kMagic) return 0;
  s.remove_prefix(kMagic.size());
  std::string_view ver = take_field(s);
  int version = ver == "1" ? 1 : ver == "2" ? 2 : 0;
  if (version == 0) return 0;
  unsigned long long v, n;
  if (!number(take_field(s), v) || !number(take_field(s), n) || v == 0 ||
      v > std::numeric_limits<std::uint32_t>::max() || n == 0 ||
      n > std::numeric_limits<std::uint32_t>::max())
    return 0;
  if (version == 2) {
    DirStamp a, b;
    if (!parse_stamp(take_field(s), a) || !parse_stamp(take_field(s), b)) return 0;
    if (a.valid && b.valid) {  // one alone says nothing
      out.new_stamp = a;
      out.cur_stamp = b;
    }
  }
  if (!s.empty()) return 0;
  out.uidvalidity = static_cast<std::uint32_t>(v);
  out.uidnext = static_cast<std::uint32_t>(n);
  return version;
}

}  // namespace

bool storable_base(std::string_view base) {
  if (base.empty()) return false;
  bool bad = false;
  for (unsigned char c : base) bad |= c < 0x20 || c == 0x7f || c == '/';  // no early exit: vectorizes
  return !bad;
}

Result<Uidlist> parse_uidlist(std::string_view text) {
  Uidlist out;
  if (text.empty() || text.back() != '\n') return corrupt(0, "truncated");
  std::size_t eol = text.find('\n');
  int version = parse_header(text.substr(0, eol), out);
  if (version == 0) return corrupt(1, "bad header");
  text.remove_prefix(eol + 1);
  std::size_t lines = 0;
  for (std::size_t at = text.find('\n'); at != std::string_view::npos; at = text.find('\n', at + 1))
    ++lines;
  out.entries.reserve(lines);
  std::unordered_set<std::string_view> seen;
  seen.reserve(out.entries.capacity());
  for (std::size_t lineno = 2; !text.empty(); ++lineno) {
    eol = text.find('\n');
    auto e = parse_entry(text.substr(0, eol), lineno, version);
    text.remove_prefix(eol + 1);
    if (!e) return std::move(e).error();
    if (!out.entries.empty() && e->uid <= out.entries.back().uid)
      return corrupt(lineno, "UIDs not ascending");
    if (e->uid >= out.uidnext) return corrupt(lineno, "UID not below UIDNEXT");
    out.entries.push_back(std::move(*e));
  }
  for (const auto& e : out.entries)
    if (!seen.insert(e.base).second) return corrupt(0, cat("duplicate file name ", e.base));
  return out;
}

std::string format_uidlist(const Uidlist& list) {
  bool stamped = list.new_stamp.valid && list.cur_stamp.valid;
  std::string out = cat("posthorn-uidlist 2 ", list.uidvalidity, " ", list.uidnext, " ",
                        format_stamp(stamped ? list.new_stamp : DirStamp{}), " ",
                        format_stamp(stamped ? list.cur_stamp : DirStamp{}), "\n");
  out.reserve(out.size() + list.entries.size() * 80);
  char num[24];
  auto put = [&](unsigned long long v) {
    auto [p, ec] = std::to_chars(num, num + sizeof num, v);
    out.append(num, p);
    out += ' ';
  };
  for (const auto& e : list.entries) {
    put(e.uid);
    put(static_cast<unsigned long long>(std::max<std::int64_t>(e.internal_date, 0)));
    put(e.size);
    put(e.vsize);
    out += e.in_new ? "n " : "c ";
    out += e.base;
    out += e.info;
    out += '\n';
  }
  return out;
}

}  // namespace posthorn::mailstore

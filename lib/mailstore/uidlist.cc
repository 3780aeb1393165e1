// lib/mailstore/uidlist.cc - see uidlist.h and FORMAT.md.
#include "lib/mailstore/uidlist.h"

#include <limits>
#include <unordered_set>

#include "lib/base/strings.h"

namespace posthorn::mailstore {
namespace {

constexpr std::string_view kMagic = "posthorn-uidlist 1";

Error corrupt(std::size_t line, std::string_view why) {
  return make_error(Errc::corrupt, cat("posthorn-uidlist line ", line, ": ", why));
}

// Takes the next space-terminated field from `s` as an unsigned number.
bool take_number(std::string_view& s, unsigned long long& out) {
  std::size_t sp = s.find(' ');
  if (sp == std::string_view::npos || !parse_uint(s.substr(0, sp), out)) return false;
  s.remove_prefix(sp + 1);
  return true;
}

Result<UidEntry> parse_entry(std::string_view s, std::size_t lineno) {
  unsigned long long uid, date, size, vsize;
  if (!take_number(s, uid) || !take_number(s, date) || !take_number(s, size) ||
      !take_number(s, vsize))
    return corrupt(lineno, "bad entry");
  if (uid == 0 || uid > std::numeric_limits<std::uint32_t>::max() ||
      date > static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max()))
    return corrupt(lineno, "number out of range");
  if (!storable_base(s)) return corrupt(lineno, "bad file name");
  return UidEntry{static_cast<std::uint32_t>(uid), static_cast<std::int64_t>(date), size, vsize,
                  std::string(s)};
}

Result<void> parse_header(std::string_view s, Uidlist& out) {
  if (s.substr(0, kMagic.size()) != kMagic || s.size() == kMagic.size() ||
      s[kMagic.size()] != ' ')
    return corrupt(1, "not a posthorn-uidlist");
  s.remove_prefix(kMagic.size() + 1);
  std::vector<std::string> f = split(s, ' ');
  unsigned long long v, n;
  if (f.size() != 2 || !parse_uint(f[0], v) || !parse_uint(f[1], n) || v == 0 ||
      v > std::numeric_limits<std::uint32_t>::max() || n == 0 ||
      n > std::numeric_limits<std::uint32_t>::max())
    return corrupt(1, "bad header");
  out.uidvalidity = static_cast<std::uint32_t>(v);
  out.uidnext = static_cast<std::uint32_t>(n);
  return {};
}

}  // namespace

bool storable_base(std::string_view base) {
  if (base.empty()) return false;
  for (unsigned char c : base)
    if (c < 0x20 || c == 0x7f || c == '/') return false;
  return true;
}

Result<Uidlist> parse_uidlist(std::string_view text) {
  Uidlist out;
  if (text.empty() || text.back() != '\n') return corrupt(0, "truncated");
  std::vector<std::string> lines = split(text.substr(0, text.size() - 1), '\n');
  if (auto h = parse_header(lines[0], out); !h) return std::move(h).error();
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto e = parse_entry(lines[i], i + 1);
    if (!e) return std::move(e).error();
    if (!out.entries.empty() && e->uid <= out.entries.back().uid)
      return corrupt(i + 1, "UIDs not ascending");
    if (e->uid >= out.uidnext) return corrupt(i + 1, "UID not below UIDNEXT");
    out.entries.push_back(std::move(*e));
  }
  for (const auto& e : out.entries)
    if (!seen.insert(e.base).second) return corrupt(0, cat("duplicate file name ", e.base));
  return out;
}

std::string format_uidlist(const Uidlist& list) {
  std::string out = cat(kMagic, " ", list.uidvalidity, " ", list.uidnext, "\n");
  out.reserve(out.size() + list.entries.size() * 80);
  for (const auto& e : list.entries) {
    out += cat(e.uid, " ", e.internal_date, " ", e.size, " ", e.vsize, " ");
    out += e.base;
    out += '\n';
  }
  return out;
}

}  // namespace posthorn::mailstore

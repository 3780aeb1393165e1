// imapd/sequence.cc - see sequence.h.
#include "imapd/sequence.h"

#include <algorithm>
#include <string>

#include "lib/base/strings.h"

namespace posthorn::imapd {
namespace {

Result<std::uint32_t> number(std::string_view s) {
  if (s == "*") return std::uint32_t{0};
  if (s.empty() || s.size() > 10 || s[0] == '0')
    return make_error(Errc::parse, cat("Invalid number in sequence set: ", s.substr(0, 20)));
  unsigned long long n = 0;
  if (!parse_uint(s, n) || n > 0xffffffffULL)
    return make_error(Errc::parse, cat("Invalid number in sequence set: ", s.substr(0, 20)));
  return static_cast<std::uint32_t>(n);
}

}  // namespace

Result<SequenceSet> SequenceSet::parse(std::string_view text) {
  SequenceSet set;
  if (text.empty()) return make_error(Errc::parse, "Empty sequence set");
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    std::size_t colon = item.find(':');
    std::string_view a = item.substr(0, colon);
    std::string_view b = colon == std::string_view::npos ? a : item.substr(colon + 1);
    if (b.find(':') != std::string_view::npos)
      return make_error(Errc::parse, "Invalid range in sequence set");
    auto lo = number(a);
    if (!lo) return lo.error();
    auto hi = number(b);
    if (!hi) return hi.error();
    if (*lo == kStar || *hi == kStar) set.star_ = true;
    set.largest_ = std::max({set.largest_, *lo, *hi});
    set.raw_.push_back({*lo, *hi});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

std::vector<SeqRange> SequenceSet::resolve(std::uint32_t star) const {
  std::vector<SeqRange> out;
  out.reserve(raw_.size());
  for (SeqRange r : raw_) {
    std::uint32_t lo = r.lo == kStar ? star : r.lo;
    std::uint32_t hi = r.hi == kStar ? star : r.hi;
    if (lo == 0) lo = hi;  // "*" in an empty mailbox: the other end alone
    if (hi == 0) hi = lo;
    if (lo == 0) continue;  // "*" or "*:*" with nothing there
    if (lo > hi) std::swap(lo, hi);
    out.push_back({lo, hi});
  }
  std::sort(out.begin(), out.end(), [](SeqRange a, SeqRange b) { return a.lo < b.lo; });
  std::vector<SeqRange> merged;
  for (SeqRange r : out) {
    if (!merged.empty() && r.lo <= std::uint64_t{merged.back().hi} + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

bool contains(const std::vector<SeqRange>& ranges, std::uint32_t n) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), n,
                             [](std::uint32_t v, const SeqRange& r) { return v < r.lo; });
  if (it == ranges.begin()) return false;
  --it;
  return n >= it->lo && n <= it->hi;
}

std::string format_set(const std::vector<std::uint32_t>& sorted) {
  std::string out;
  std::size_t i = 0;
  while (i < sorted.size()) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(sorted[i]);
    if (j > i) out += ":" + std::to_string(sorted[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace posthorn::imapd

// imapd/sequence.h - IMAP sequence sets (RFC 3501 section 9 "sequence-set",
// RFC 9051 section 9): "1", "2:4", "5:*", "*", comma-separated.
//
// Guarantees: numbers are 1..4294967295 (0, leading zeros and larger values
// are refused); a set holds at most as many ranges as its text has commas,
// so resolving it never allocates more than the text's size or the mailbox's.
// "n:m" and "m:n" are the same range (RFC 3501: "the contents of the range
// do not depend on the order"); "*" is the largest number in use, supplied
// when the set is resolved. The SEARCHRES "$" is not supported.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::imapd {

struct SeqRange {
  std::uint32_t lo = 0, hi = 0;  // inclusive; lo <= hi once resolved
};

class SequenceSet {
 public:
  // Errors: Errc::parse naming what is wrong.
  static Result<SequenceSet> parse(std::string_view text);

  bool uses_star() const { return star_; }
  // The ranges with "*" = `star`, ordered, merged and not overlapping. With
  // star 0 (an empty mailbox) a range with "*" keeps its other end.
  std::vector<SeqRange> resolve(std::uint32_t star) const;
  // The largest number written (not counting "*").
  std::uint32_t largest() const { return largest_; }

 private:
  static constexpr std::uint32_t kStar = 0;  // 0 is no valid number: it marks "*"
  std::vector<SeqRange> raw_;
  bool star_ = false;
  std::uint32_t largest_ = 0;
};

// Whether `n` is in resolved ranges (binary search).
bool contains(const std::vector<SeqRange>& ranges, std::uint32_t n);

// "1:3,5" for sorted values (COPYUID, APPENDUID, SEARCH-like outputs).
std::string format_set(const std::vector<std::uint32_t>& sorted);

}  // namespace posthorn::imapd

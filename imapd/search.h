// imapd/search.h - SEARCH keys (RFC 3501 6.4.4): parsed into a tree once,
// then matched against each message.
//
// Every key of RFC 3501 is understood: ALL, flags and their UN- forms, NEW,
// OLD, RECENT, KEYWORD/UNKEYWORD, BEFORE/ON/SINCE (internal date, local
// calendar day), SENTBEFORE/SENTON/SENTSINCE (the Date: field's own day),
// LARGER/SMALLER (RFC822.SIZE), FROM/TO/CC/BCC/SUBJECT/HEADER (RFC 2047
// decoded, case-insensitive substring), BODY and TEXT (text parts decoded
// from quoted-printable and base64), UID sets, sequence sets, NOT, OR and
// parenthesized lists; several keys are ANDed. CHARSET UTF-8 and US-ASCII
// are accepted; strings are compared with ASCII case folding.
// Refusals: other charsets (Errc::unsupported: NO [BADCHARSET]), NOT/OR
// chains deeper than kMaxSearchDepth, and malformed keys (Errc::parse: BAD).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imapd/parser.h"
#include "imapd/sequence.h"
#include "lib/base/result.h"
#include "lib/mailstore/folder.h"
#include "lib/mime/message.h"

namespace posthorn::imapd {

inline constexpr int kMaxSearchDepth = 64;

struct SearchKey {
  enum class Kind {
    all, all_of, any_of, negate, flag, no_flag, keyword, no_keyword, recent, before, on, since,
    sent_before, sent_on, sent_since, larger, smaller, header, body, text, seq_set, uid_set,
  };
  Kind kind = Kind::all;
  unsigned flag = 0;          // flag, no_flag
  std::string field;          // header: the field name
  std::string value;          // strings, lower case; keyword names
  std::int64_t number = 0;    // days since the epoch, or a size
  std::vector<SeqRange> ranges;
  std::vector<SearchKey> kids;
};

// The numbers "*" stands for.
struct SearchBounds {
  std::uint32_t exists = 0;       // sequence sets
  std::uint32_t highest_uid = 0;  // UID sets
};

// Parses SEARCH's arguments from `args[from]`, CHARSET included.
Result<SearchKey> parse_search(const std::vector<Value>& args, std::size_t from,
                               const SearchBounds& bounds);

// Whether matching `key` needs the message's octets.
bool needs_data(const SearchKey& key);

// One message under test; the octets are read at most once, when a key
// needs them.
class SearchTarget {
 public:
  SearchTarget(std::uint32_t seq, const mailstore::Message& meta, bool recent,
               mailstore::Folder& folder)
      : seq_(seq), meta_(meta), recent_(recent), folder_(folder) {}
  bool matches(const SearchKey& key);
  // False when the octets were needed but could not be read.
  bool readable() const { return readable_; }

 private:
  bool match_header(const std::string& field, const std::string& needle);
  bool match_body(const std::string& needle);
  std::optional<std::int64_t> sent_day();
  bool load();

  std::uint32_t seq_;
  const mailstore::Message& meta_;
  bool recent_;
  mailstore::Folder& folder_;
  bool loaded_ = false, readable_ = true;
  std::string data_;
  std::optional<mime::Message> parsed_;
};

}  // namespace posthorn::imapd

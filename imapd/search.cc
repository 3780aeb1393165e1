// imapd/search.cc - see search.h.
#include "imapd/search.h"

#include <algorithm>

#include "imapd/format.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"
#include "lib/mime/date.h"
#include "lib/mime/encoded_word.h"
#include "lib/mime/header.h"
#include "lib/mime/transfer.h"

namespace posthorn::imapd {
namespace {

using K = SearchKey::Kind;

Error bad(std::string_view what) { return make_error(Errc::parse, cat("Invalid search key: ", what)); }

struct FlagKey {
  std::string_view name;
  K kind;
  unsigned flag;
};
constexpr FlagKey kFlagKeys[] = {
    {"ANSWERED", K::flag, mailstore::kReplied},   {"DELETED", K::flag, mailstore::kTrashed},
    {"DRAFT", K::flag, mailstore::kDraft},        {"FLAGGED", K::flag, mailstore::kFlagged},
    {"SEEN", K::flag, mailstore::kSeen},          {"UNANSWERED", K::no_flag, mailstore::kReplied},
    {"UNDELETED", K::no_flag, mailstore::kTrashed}, {"UNDRAFT", K::no_flag, mailstore::kDraft},
    {"UNFLAGGED", K::no_flag, mailstore::kFlagged}, {"UNSEEN", K::no_flag, mailstore::kSeen},
};

struct StringKey {
  std::string_view name;
  K kind;
  std::string_view field;
};
constexpr StringKey kStringKeys[] = {
    {"BCC", K::header, "bcc"},         {"CC", K::header, "cc"}, {"FROM", K::header, "from"},
    {"SUBJECT", K::header, "subject"}, {"TO", K::header, "to"}, {"BODY", K::body, ""},
    {"TEXT", K::text, ""},
};

struct DateKey {
  std::string_view name;
  K kind;
};
constexpr DateKey kDateKeys[] = {
    {"BEFORE", K::before},          {"ON", K::on},          {"SINCE", K::since},
    {"SENTBEFORE", K::sent_before}, {"SENTON", K::sent_on}, {"SENTSINCE", K::sent_since},
};

std::string fold(std::string_view s) { return to_lower(s); }

bool contains_folded(std::string_view hay, const std::string& needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
                          return a == b;
                        });
  return it != hay.end();
}

class Parser {
 public:
  Parser(const std::vector<Value>& args, const SearchBounds& b) : args_(args), b_(b) {}

  Result<SearchKey> all_from(std::size_t i) {
    i_ = i;
    SearchKey top;
    top.kind = K::all_of;
    if (i_ < args_.size() && args_[i_].is("CHARSET")) {
      if (i_ + 1 >= args_.size() || !args_[i_ + 1].is_astring()) return bad("CHARSET");
      const std::string& cs = args_[i_ + 1].text;
      if (!iequals(cs, "UTF-8") && !iequals(cs, "US-ASCII"))
        return make_error(Errc::unsupported, "Unsupported charset");
      i_ += 2;
    }
    if (i_ >= args_.size()) return bad("missing search key");
    while (i_ < args_.size()) {
      auto k = key(args_, 0);
      if (!k) return k;
      top.kids.push_back(std::move(*k));
    }
    return top;
  }

 private:
  Result<std::string> astring(const std::vector<Value>& vs, std::string_view what) {
    if (i_ >= vs.size() || !vs[i_].is_astring()) return bad(cat(what, " needs an argument"));
    return vs[i_++].text;
  }

  Result<SearchKey> key(const std::vector<Value>& vs, int depth) {
    if (depth > kMaxSearchDepth) return make_error(Errc::parse, "Search key nested too deeply");
    const Value& v = vs[i_++];
    SearchKey k;
    if (v.is_list()) {
      if (v.items.empty()) return bad("empty list");
      k.kind = K::all_of;
      std::size_t saved = i_;
      i_ = 0;
      while (i_ < v.items.size()) {
        auto kid = key(v.items, depth + 1);
        if (!kid) return kid;
        k.kids.push_back(std::move(*kid));
      }
      i_ = saved;
      return k;
    }
    if (!v.is_atom()) return bad("string where a key belongs");
    const std::string& w = v.text;
    if (iequals(w, "ALL")) return k;
    for (const auto& f : kFlagKeys)
      if (iequals(w, f.name)) return k.kind = f.kind, k.flag = f.flag, k;
    for (const auto& s : kStringKeys) {
      if (!iequals(w, s.name)) continue;
      auto a = astring(vs, s.name);
      if (!a) return a.error();
      k.kind = s.kind;
      k.field = s.field;
      k.value = fold(*a);
      return k;
    }
    for (const auto& d : kDateKeys) {
      if (!iequals(w, d.name)) continue;
      auto a = astring(vs, d.name);
      if (!a) return a.error();
      auto day = parse_date(*a);
      if (!day) return bad(cat(d.name, " needs a date"));
      k.kind = d.kind;
      k.number = *day;
      return k;
    }
    if (iequals(w, "NEW") || iequals(w, "OLD") || iequals(w, "RECENT")) {
      k.kind = K::recent;
      if (iequals(w, "OLD")) return negate(std::move(k));
      if (iequals(w, "RECENT")) return k;
      SearchKey unseen;
      unseen.kind = K::no_flag;
      unseen.flag = mailstore::kSeen;
      SearchKey both;
      both.kind = K::all_of;
      both.kids = {std::move(k), std::move(unseen)};
      return both;
    }
    if (iequals(w, "HEADER")) {
      auto f = astring(vs, "HEADER");
      if (!f) return f.error();
      auto s = astring(vs, "HEADER");
      if (!s) return s.error();
      k.kind = K::header;
      k.field = fold(*f);
      k.value = fold(*s);
      return k;
    }
    if (iequals(w, "KEYWORD") || iequals(w, "UNKEYWORD")) {
      if (i_ >= vs.size() || !vs[i_].is_atom()) return bad("KEYWORD needs a keyword");
      const std::string& name = vs[i_++].text;
      k.kind = iequals(w, "KEYWORD") ? K::keyword : K::no_keyword;
      if (iequals(name, "$Forwarded")) {
        k.kind = k.kind == K::keyword ? K::flag : K::no_flag;
        k.flag = mailstore::kPassed;
      }
      k.value = name;
      return k;
    }
    if (iequals(w, "LARGER") || iequals(w, "SMALLER")) {
      unsigned long long n = 0;
      if (i_ >= vs.size() || !vs[i_].is_atom() || !parse_uint(vs[i_].text, n))
        return bad(cat(w, " needs a number"));
      ++i_;
      k.kind = iequals(w, "LARGER") ? K::larger : K::smaller;
      k.number = static_cast<std::int64_t>(std::min<unsigned long long>(n, 1ULL << 62));
      return k;
    }
    if (iequals(w, "NOT")) {
      if (i_ >= vs.size()) return bad("NOT needs a key");
      auto kid = key(vs, depth + 1);
      if (!kid) return kid;
      return negate(std::move(*kid));
    }
    if (iequals(w, "OR")) {
      k.kind = K::any_of;
      for (int n = 0; n < 2; ++n) {
        if (i_ >= vs.size()) return bad("OR needs two keys");
        auto kid = key(vs, depth + 1);
        if (!kid) return kid;
        k.kids.push_back(std::move(*kid));
      }
      return k;
    }
    if (iequals(w, "UID")) {
      if (i_ >= vs.size() || !vs[i_].is_atom()) return bad("UID needs a set");
      auto set = SequenceSet::parse(vs[i_++].text);
      if (!set) return set.error();
      k.kind = K::uid_set;
      k.ranges = set->resolve(b_.highest_uid);
      return k;
    }
    if ((w[0] >= '0' && w[0] <= '9') || w[0] == '*') {
      auto set = SequenceSet::parse(w);
      if (!set) return set.error();
      k.kind = K::seq_set;
      k.ranges = set->resolve(b_.exists);
      return k;
    }
    return bad(printable(std::string_view(w).substr(0, 64)));
  }

  static SearchKey negate(SearchKey k) {
    SearchKey n;
    n.kind = K::negate;
    n.kids.push_back(std::move(k));
    return n;
  }

  const std::vector<Value>& args_;
  SearchBounds b_;
  std::size_t i_ = 0;
};

}  // namespace

Result<SearchKey> parse_search(const std::vector<Value>& args, std::size_t from,
                               const SearchBounds& bounds) {
  return Parser(args, bounds).all_from(from);
}

bool needs_data(const SearchKey& k) {
  switch (k.kind) {
    case K::header: case K::body: case K::text:
    case K::sent_before: case K::sent_on: case K::sent_since:
      return true;
    default:
      return std::any_of(k.kids.begin(), k.kids.end(), [](const SearchKey& c) { return needs_data(c); });
  }
}

bool SearchTarget::load() {
  if (loaded_) return readable_;
  loaded_ = true;
  auto d = folder_.read_message(meta_.uid);
  if (!d) {
    readable_ = false;
    return false;
  }
  data_ = std::move(*d);
  parsed_ = mime::parse(std::string_view(data_));
  return true;
}

bool SearchTarget::match_header(const std::string& field, const std::string& needle) {
  if (!load()) return false;
  bool found = false;
  mime::for_each_field(parsed_->header(parsed_->root()), [&](const mime::Field& f) {
    if (!iequals(f.name, field)) return true;
    // HEADER with an empty string: the field is there (RFC 3501 6.4.4).
    found = needle.empty() ||
            contains_folded(mime::decode_header_text(mime::unfold(f.value)), needle);
    return !found;
  });
  return found;
}

// The text parts' decoded contents, in order (message/rfc822 parts are
// searched through their own parts).
bool SearchTarget::match_body(const std::string& needle) {
  if (!load()) return false;
  for (const mime::Part& p : parsed_->parts) {
    if (p.is_multipart() || p.is_message()) continue;
    const std::string& type = p.content_type.type;
    if (type != "text" && type != "message") continue;
    std::string_view raw = parsed_->body(p);
    std::string decoded;
    if (p.encoding == "quoted-printable") decoded = mime::qp_decode(raw).data;
    else if (p.encoding == "base64") decoded = mime::base64_decode(raw).data;
    else decoded.assign(raw);
    const std::string* cs = p.content_type.param("charset");
    if (cs && (iequals(*cs, "iso-8859-1") || iequals(*cs, "latin1")))
      decoded = mime::latin1_to_utf8(decoded);
    if (contains_folded(decoded, needle)) return true;
  }
  return false;
}

std::optional<std::int64_t> SearchTarget::sent_day() {
  if (!load()) return std::nullopt;
  auto v = mime::find_field(parsed_->header(parsed_->root()), "date");
  if (!v) return std::nullopt;
  auto dt = mime::parse_date_time(mime::unfold(*v));
  if (!dt) return std::nullopt;
  return days_from_civil(dt->year, static_cast<unsigned>(dt->month), static_cast<unsigned>(dt->day));
}

bool SearchTarget::matches(const SearchKey& k) {
  switch (k.kind) {
    case K::all: return true;
    case K::all_of:
      return std::all_of(k.kids.begin(), k.kids.end(), [&](const SearchKey& c) { return matches(c); });
    case K::any_of:
      return std::any_of(k.kids.begin(), k.kids.end(), [&](const SearchKey& c) { return matches(c); });
    case K::negate: return !matches(k.kids[0]);
    case K::flag: return (meta_.flags & k.flag) != 0;
    case K::no_flag: return (meta_.flags & k.flag) == 0;
    case K::keyword:
    case K::no_keyword: {
      bool has = std::any_of(meta_.keywords.begin(), meta_.keywords.end(),
                             [&](const std::string& n) { return iequals(n, k.value); });
      return has == (k.kind == K::keyword);
    }
    case K::recent: return recent_;
    case K::before: return local_day(meta_.internal_date) < k.number;
    case K::on: return local_day(meta_.internal_date) == k.number;
    case K::since: return local_day(meta_.internal_date) >= k.number;
    case K::sent_before: { auto d = sent_day(); return d && *d < k.number; }
    case K::sent_on: { auto d = sent_day(); return d && *d == k.number; }
    case K::sent_since: { auto d = sent_day(); return d && *d >= k.number; }
    case K::larger: return static_cast<std::int64_t>(meta_.vsize) > k.number;
    case K::smaller: return static_cast<std::int64_t>(meta_.vsize) < k.number;
    case K::header: return match_header(k.field, k.value);
    case K::body: return match_body(k.value);
    case K::text:
      if (!load()) return false;
      return contains_folded(mime::decode_header_text(parsed_->header(parsed_->root())), k.value) ||
             match_body(k.value);
    case K::seq_set: return contains(k.ranges, seq_);
    case K::uid_set: return contains(k.ranges, meta_.uid);
  }
  return false;
}

}  // namespace posthorn::imapd

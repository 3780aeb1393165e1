// imapd/cmd_search.cc - SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8), with
// ESEARCH's RETURN options MIN, MAX, COUNT and ALL (RFC 4731). Under
// IMAP4rev2 every SEARCH is answered with ESEARCH (RFC 9051 6.4.4); SAVE
// (SEARCHRES) is not offered.
#include <algorithm>

#include "imapd/format.h"
#include "imapd/search.h"
#include "imapd/sequence.h"
#include "imapd/session.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {
namespace {

struct ReturnOptions {
  bool given = false;  // RETURN (...) was there
  bool min = false, max = false, count = false, all = false;
};

// Reads "RETURN (opts)" at args[0], if there. Errors: text for BAD.
std::optional<std::string> parse_return(const std::vector<Value>& args, ReturnOptions& r,
                                        std::size_t& next) {
  next = 0;
  if (args.empty() || !args[0].is("RETURN")) return std::nullopt;
  if (args.size() < 2 || !args[1].is_list()) return "RETURN needs a list";
  r.given = true;
  for (const Value& o : args[1].items) {
    if (o.is("MIN")) r.min = true;
    else if (o.is("MAX")) r.max = true;
    else if (o.is("COUNT")) r.count = true;
    else if (o.is("ALL")) r.all = true;
    else return "Unknown or unsupported RETURN option";
  }
  if (!r.min && !r.max && !r.count) r.all = true;  // RETURN () means ALL
  next = 2;
  return std::nullopt;
}

}  // namespace

void Session::cmd_search(Command& c) {
  ReturnOptions ret;
  std::size_t from = 0;
  if (auto err = parse_return(c.args, ret, from)) return bad(c.tag, *err);
  SearchBounds b;
  b.exists = view_->exists();
  b.highest_uid = b.exists ? view_->at(b.exists).uid : 0;
  auto key = parse_search(c.args, from, b);
  if (!key) {
    if (key.error().code == Errc::unsupported)
      return finish(c.tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    return bad(c.tag, key.error().detail);
  }
  std::vector<std::uint32_t> hits;
  bool unreadable = false;
  for (std::uint32_t seq = 1; seq <= view_->exists(); ++seq) {
    const mailstore::Message* m = view_->message(seq);
    if (!m) continue;  // expunged elsewhere: it matches nothing
    mailstore::Message meta = *m;  // reading a file may rescan the folder
    SearchTarget t(seq, meta, view_->shows_recent(seq), view_->folder());
    if (t.matches(*key)) hits.push_back(uid_ ? meta.uid : seq);
    if (!t.readable()) unreadable = true;
  }
  if (!ret.given && !rev2_) {
    std::string line = "* SEARCH";
    for (std::uint32_t h : hits) line += cat(" ", h);
    untagged(line);
  } else {
    if (!ret.given) ret.all = true;
    std::string line = cat("* ESEARCH (TAG ", quote(c.tag), ")", uid_ ? " UID" : "");
    if (ret.min && !hits.empty()) line += cat(" MIN ", hits.front());
    if (ret.max && !hits.empty()) line += cat(" MAX ", hits.back());
    if (ret.count) line += cat(" COUNT ", hits.size());
    if (ret.all && !hits.empty()) line += cat(" ALL ", format_set(hits));
    untagged(line);
  }
  if (unreadable) return finish(c.tag, "OK", "[EXPUNGEISSUED] SEARCH completed, some messages were not readable");
  finish(c.tag, "OK", "SEARCH completed");
}

}  // namespace posthorn::imapd

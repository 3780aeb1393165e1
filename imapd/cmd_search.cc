// imapd/cmd_search.cc - SEARCH and UID SEARCH (RFC 3501 6.4.4, 6.4.8).
#include "imapd/search.h"
#include "imapd/session.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {

void Session::cmd_search(Command& c) {
  SearchBounds b;
  b.exists = view_->exists();
  b.highest_uid = b.exists ? view_->at(b.exists).uid : 0;
  auto key = parse_search(c.args, 0, b);
  if (!key) {
    if (key.error().code == Errc::unsupported)
      return finish(c.tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    return bad(c.tag, key.error().detail);
  }
  std::string line = "* SEARCH";
  bool unreadable = false;
  for (std::uint32_t seq = 1; seq <= view_->exists(); ++seq) {
    const mailstore::Message* m = view_->message(seq);
    if (!m) continue;  // expunged elsewhere: it matches nothing
    mailstore::Message meta = *m;  // reading a file may rescan the folder
    SearchTarget t(seq, meta, view_->at(seq).recent, view_->folder());
    if (t.matches(*key)) line += cat(" ", uid_ ? meta.uid : seq);
    if (!t.readable()) unreadable = true;
  }
  untagged(line);
  if (unreadable) return finish(c.tag, "OK", "[EXPUNGEISSUED] SEARCH completed, some messages were not readable");
  finish(c.tag, "OK", "SEARCH completed");
}

}  // namespace posthorn::imapd

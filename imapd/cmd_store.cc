// imapd/cmd_store.cc - STORE and UID STORE (RFC 3501 6.4.6).
//
// STORE set FLAGS|+FLAGS|-FLAGS[.SILENT] (flags) - or the flags without
// parentheses. Every change is one rename per message under the folder lock
// (lib/mailstore); the untagged FETCH responses then show each message's
// flags as they are afterwards, other sessions' changes included.
#include "imapd/format.h"
#include "imapd/session.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {

void Session::cmd_store(Command& c) {
  if (c.args.size() < 3 || !c.args[1].is_atom())
    return bad(c.tag, "STORE needs a sequence set, a data item and flags");
  auto seqs = message_set(c.tag, c.args[0]);
  if (!seqs) return;
  std::string item = c.args[1].text;
  bool silent = false;
  if (item.size() > 7 && iequals(std::string_view(item).substr(item.size() - 7), ".SILENT")) {
    silent = true;
    item.resize(item.size() - 7);
  }
  mailstore::FlagOp op;
  if (iequals(item, "FLAGS")) op = mailstore::FlagOp::replace;
  else if (iequals(item, "+FLAGS")) op = mailstore::FlagOp::add;
  else if (iequals(item, "-FLAGS")) op = mailstore::FlagOp::remove;
  else return bad(c.tag, "Invalid STORE data item");
  auto flags = c.args.size() == 3 ? parse_flags(c.args[2]) : parse_flag_values(c.args, 2);
  if (!flags) return bad(c.tag, flags.error().detail);
  if (view_->read_only()) return finish(c.tag, "NO", "[READ-ONLY] The mailbox is read-only");

  std::vector<std::uint32_t> uids;
  bool expunged = false;
  for (std::uint32_t s : *seqs) {
    if (const mailstore::Message* m = view_->message(s)) uids.push_back(m->uid);
    else expunged = true;
  }
  if (!uids.empty()) {
    if (auto r = view_->folder().store(uids, op, *flags); !r) {
      if (r.error().code == Errc::too_large)
        return finish(c.tag, "NO", "[LIMIT] Too many keywords in this mailbox");
      return store_error(c.tag, r.error(), "STORE");
    }
  }
  view_->announce_keywords(out_);
  for (std::uint32_t s : *seqs) {
    const mailstore::Message* m = view_->message(s);
    if (!m) continue;
    if (!silent) {
      std::string line = cat("* ", s, " FETCH (");
      if (uid_) line += cat("UID ", m->uid, " ");
      line += cat("FLAGS ", flag_list(m->flags, m->keywords, view_->shows_recent(s)), ")");
      untagged(line);
    }
    view_->reported(s, m->flags, m->keyword_bits);
  }
  if (expunged) return finish(c.tag, "NO", "[EXPUNGEISSUED] Some messages were expunged");
  finish(c.tag, "OK", "STORE completed");
}

}  // namespace posthorn::imapd

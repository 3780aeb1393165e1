// imapd/cmd_copy.cc - COPY, MOVE and their UID forms (RFC 3501 6.4.7,
// RFC 6851, RFC 4315 COPYUID).
//
// The target must exist (NO [TRYCREATE] otherwise). lib/mailstore hard
// links where it can, so a copy costs no octets; a MOVE that is cut short
// leaves messages in both folders, never in neither. MOVE's EXPUNGE
// responses come from the report before the tagged OK (RFC 6851 3.3: the
// untagged OK [COPYUID] first).
#include "imapd/mailbox_name.h"
#include "imapd/sequence.h"
#include "imapd/session.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {

void Session::cmd_copy(Command& c) { copy_or_move(c, false); }
void Session::cmd_move(Command& c) { copy_or_move(c, true); }

void Session::copy_or_move(Command& c, bool move) {
  const char* what = move ? "MOVE" : "COPY";
  if (c.args.size() != 2) return bad(c.tag, cat(what, " needs a sequence set and a mailbox name"));
  auto seqs = message_set(c.tag, c.args[0]);
  if (!seqs) return;
  std::string name;
  if (!mailbox_arg(c.tag, c.args[1], name, false)) return;
  if (move && view_->read_only()) return finish(c.tag, "NO", "[READ-ONLY] The mailbox is read-only");
  auto dest = store_->folder(name);
  if (!dest) {
    if (dest.error().code == Errc::not_found)
      return finish(c.tag, "NO", "[TRYCREATE] Mailbox does not exist");
    return store_error(c.tag, dest.error(), what);
  }
  std::vector<std::uint32_t> uids;
  bool expunged = false;
  for (std::uint32_t s : *seqs) {
    if (const mailstore::Message* m = view_->message(s)) uids.push_back(m->uid);
    else expunged = true;
  }
  if (uids.empty()) {
    if (expunged) return finish(c.tag, "NO", "[EXPUNGEISSUED] Some messages were expunged");
    return finish(c.tag, "OK", cat(what, " completed"));
  }
  auto r = move ? view_->folder().move_to(*dest, uids) : view_->folder().copy_to(*dest, uids);
  if (!r) return store_error(c.tag, r.error(), what);
  std::string code;
  if (!r->pairs.empty()) {
    std::vector<std::uint32_t> src, dst;
    for (const auto& p : r->pairs) {
      src.push_back(p.source);
      dst.push_back(p.target);
    }
    code = cat("[COPYUID ", r->uidvalidity, " ", format_set(src), " ", format_set(dst), "] ");
  }
  if (move) {
    if (!code.empty()) untagged(cat("* OK ", code, "Moved"));
    return finish(c.tag, "OK", expunged ? "[EXPUNGEISSUED] MOVE completed" : "MOVE completed");
  }
  if (expunged) return finish(c.tag, "NO", "[EXPUNGEISSUED] Some messages were expunged");
  finish(c.tag, "OK", cat(code, "COPY completed"));
}

}  // namespace posthorn::imapd

// imapd/cmd_select.cc - SELECT, EXAMINE, CHECK, CLOSE, UNSELECT, EXPUNGE and
// UID EXPUNGE (RFC 3501 6.3.1, 6.3.2, 6.4; RFC 3691; RFC 4315 2.1), IDLE
// (RFC 2177).
#include "imapd/format.h"
#include "imapd/mailbox_name.h"
#include "imapd/sequence.h"
#include "imapd/session.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {

void Session::cmd_select(Command& c) { select(c, false); }
void Session::cmd_examine(Command& c) { select(c, true); }

// A failed SELECT leaves no mailbox selected (RFC 3501 6.3.1).
void Session::select(Command& c, bool read_only) {
  if (c.args.size() != 1) return bad(c.tag, "SELECT needs a mailbox name");
  // RFC 9051 6.3.1: the end of the previous selection is announced.
  if (view_ && rev2_) untagged("* OK [CLOSED] Previous mailbox is now closed");
  view_.reset();
  state_ = State::authenticated;
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, false)) return;
  auto folder = store_->folder(name);
  if (!folder) return store_error(c.tag, folder.error(), "SELECT");
  auto view = MailboxView::open(std::move(*folder), read_only);
  if (!view) return store_error(c.tag, view.error(), "SELECT");
  view_ = std::move(*view);
  view_->set_rev2(rev2_);
  state_ = State::selected;
  out_ += view_->flags_lines();
  untagged(cat("* ", view_->exists(), " EXISTS"));
  if (rev2_) {
    // RFC 9051 6.3.2: the name as the server knows it, and no \Recent.
    untagged(cat("* LIST () \"", kSeparator, "\" ", mailbox_out(name)));
  } else {
    untagged(cat("* ", view_->recent(), " RECENT"));
    if (std::uint32_t u = view_->first_unseen())
      untagged(cat("* OK [UNSEEN ", u, "] First unseen"));
  }
  untagged(cat("* OK [UIDVALIDITY ", view_->uidvalidity(), "] UIDs valid"));
  untagged(cat("* OK [UIDNEXT ", view_->folder().snapshot().uidnext, "] Predicted next UID"));
  // Straight to the tagged response: the view was made just now.
  out_ += cat(c.tag, " OK ", read_only ? "[READ-ONLY]" : "[READ-WRITE]", " ",
              read_only ? "EXAMINE" : "SELECT", " completed\r\n");
}

void Session::cmd_check(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "CHECK takes no arguments");
  finish(c.tag, "OK", "CHECK completed");
}

// CLOSE expunges silently (RFC 3501 6.4.2), unless the mailbox is read-only.
void Session::cmd_close(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "CLOSE takes no arguments");
  if (!view_->read_only()) {
    if (auto r = view_->folder().expunge_deleted(); !r)
      host_.log(cat("mailbox ", view_->folder().name(), ": expunge at CLOSE: ", r.error().detail));
  }
  view_.reset();
  state_ = State::authenticated;
  out_ += cat(c.tag, " OK CLOSE completed\r\n");
}

void Session::cmd_unselect(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "UNSELECT takes no arguments");
  view_.reset();
  state_ = State::authenticated;
  out_ += cat(c.tag, " OK UNSELECT completed\r\n");
}

// EXPUNGE, or UID EXPUNGE set (only the \Deleted messages in the set). The
// EXPUNGE responses come from the report that precedes the tagged OK.
void Session::cmd_expunge(Command& c) {
  std::optional<std::vector<std::uint32_t>> within;
  if (uid_) {
    if (c.args.size() != 1) return bad(c.tag, "UID EXPUNGE needs a UID set");
    auto seqs = message_set(c.tag, c.args[0]);
    if (!seqs) return;
    within.emplace();
    for (std::uint32_t s : *seqs) within->push_back(view_->at(s).uid);
  } else if (!c.args.empty()) {
    return bad(c.tag, "EXPUNGE takes no arguments");
  }
  if (view_->read_only()) return finish(c.tag, "NO", "[READ-ONLY] The mailbox is read-only");
  if (auto r = view_->folder().expunge_deleted(within); !r)
    return store_error(c.tag, r.error(), "EXPUNGE");
  finish(c.tag, "OK", "EXPUNGE completed");
}

// IDLE: changes are reported as they happen, EXPUNGE included, until DONE.
void Session::cmd_idle(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "IDLE takes no arguments");
  mode_ = Mode::idle;
  out_ += "+ idling\r\n";
  if (view_) {
    report_changes(true);
    if (finished()) return;
    host_.watch(view_->folder().dir());
  }
}

void Session::idle_line(std::string_view line) {
  mode_ = Mode::command;
  if (view_) host_.unwatch();
  allow_expunge_ = true;
  if (iequals(line, "DONE")) return finish(tag_, "OK", "IDLE terminated");
  bad(tag_, "Expected DONE");
}

void Session::changed() {
  if (mode_ != Mode::idle || !view_) return;
  report_changes(true);
  flush();
}

}  // namespace posthorn::imapd

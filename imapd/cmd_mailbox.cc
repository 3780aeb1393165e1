// imapd/cmd_mailbox.cc - CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE
// (RFC 3501 6.3.3 - 6.3.7) and STATUS (6.3.10).
//
// Decisions: DELETE and RENAME of the selected mailbox (or, for RENAME, of
// one of its parents) are refused with NO [INUSE]: the session's open folder
// would vanish under it. Other sessions that have it selected are ended
// with BYE at their next report (MailboxView::update). DELETE keeps the
// subscription (RFC 3501 6.3.4 lets a name stay subscribed).
#include "imapd/format.h"
#include "imapd/mailbox_name.h"
#include "imapd/session.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"

namespace posthorn::imapd {
namespace {

// Whether `name` is `selected` or one of its parents.
bool covers(std::string_view name, std::string_view selected) {
  return selected == name ||
         (selected.size() > name.size() && selected.compare(0, name.size(), name) == 0 &&
          selected[name.size()] == kSeparator);
}

}  // namespace

void Session::cmd_create(Command& c) {
  if (c.args.size() != 1) return bad(c.tag, "CREATE needs a mailbox name");
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, true)) return;
  if (mailstore::is_inbox(name)) return finish(c.tag, "NO", "[ALREADYEXISTS] INBOX exists");
  if (auto r = store_->create(name); !r) return store_error(c.tag, r.error(), "CREATE");
  finish(c.tag, "OK", "CREATE completed");
}

void Session::cmd_delete(Command& c) {
  if (c.args.size() != 1) return bad(c.tag, "DELETE needs a mailbox name");
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, false)) return;
  if (mailstore::is_inbox(name)) return finish(c.tag, "NO", "[CANNOT] INBOX cannot be deleted");
  if (view_ && view_->folder().name() == name)
    return finish(c.tag, "NO", "[INUSE] The mailbox is selected");
  if (auto r = store_->remove(name); !r) return store_error(c.tag, r.error(), "DELETE");
  finish(c.tag, "OK", "DELETE completed");
}

void Session::cmd_rename(Command& c) {
  if (c.args.size() != 2) return bad(c.tag, "RENAME needs two mailbox names");
  std::string from, to;
  if (!mailbox_arg(c.tag, c.args[0], from, false) || !mailbox_arg(c.tag, c.args[1], to, true)) return;
  if (view_ && covers(from, view_->folder().name()))
    return finish(c.tag, "NO", "[INUSE] The mailbox is selected");
  if (auto r = store_->rename(from, to); !r) return store_error(c.tag, r.error(), "RENAME");
  finish(c.tag, "OK", "RENAME completed");
}

void Session::cmd_subscribe(Command& c) {
  if (c.args.size() != 1) return bad(c.tag, "SUBSCRIBE needs a mailbox name");
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, false)) return;
  if (auto r = store_->subscribe(name); !r) return store_error(c.tag, r.error(), "SUBSCRIBE");
  finish(c.tag, "OK", "SUBSCRIBE completed");
}

void Session::cmd_unsubscribe(Command& c) {
  if (c.args.size() != 1) return bad(c.tag, "UNSUBSCRIBE needs a mailbox name");
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, false)) return;
  if (auto r = store_->unsubscribe(name); !r) return store_error(c.tag, r.error(), "UNSUBSCRIBE");
  finish(c.tag, "OK", "UNSUBSCRIBE completed");
}

// STATUS reads the folder without claiming its new messages: RECENT counts
// those no session has seen yet (still in new/).
std::optional<std::vector<Session::StatusItem>> Session::status_items(const Value& list) {
  if (!list.is_list() || list.items.empty()) return std::nullopt;
  std::vector<StatusItem> items;
  for (const Value& v : list.items) {
    if (v.is("MESSAGES")) items.push_back(StatusItem::messages);
    else if (v.is("RECENT")) items.push_back(StatusItem::recent);
    else if (v.is("UIDNEXT")) items.push_back(StatusItem::uidnext);
    else if (v.is("UIDVALIDITY")) items.push_back(StatusItem::uidvalidity);
    else if (v.is("UNSEEN")) items.push_back(StatusItem::unseen);
    else if (v.is("SIZE")) items.push_back(StatusItem::size);
    else if (v.is("DELETED")) items.push_back(StatusItem::deleted);
    else return std::nullopt;
  }
  return items;
}

Result<std::string> Session::status_line(const std::string& name,
                                         const std::vector<StatusItem>& items) {
  auto folder = store_->folder(name);
  if (!folder) return std::move(folder).error();
  if (auto r = folder->sync(mailstore::SyncMode::keep_new); !r) return std::move(r).error();
  const mailstore::Snapshot& snap = folder->snapshot();
  std::string out;
  for (StatusItem i : items) {
    if (!out.empty()) out += ' ';
    std::size_t n = 0;
    switch (i) {
      case StatusItem::messages: out += cat("MESSAGES ", snap.messages.size()); break;
      case StatusItem::recent:
        for (const auto& m : snap.messages) n += m.in_new;
        out += cat("RECENT ", n);
        break;
      case StatusItem::uidnext: out += cat("UIDNEXT ", snap.uidnext); break;
      case StatusItem::uidvalidity: out += cat("UIDVALIDITY ", snap.uidvalidity); break;
      case StatusItem::unseen:
        for (const auto& m : snap.messages) n += !(m.flags & mailstore::kSeen);
        out += cat("UNSEEN ", n);
        break;
      case StatusItem::deleted:
        for (const auto& m : snap.messages) n += (m.flags & mailstore::kTrashed) != 0;
        out += cat("DELETED ", n);
        break;
      case StatusItem::size: {
        std::uint64_t total = 0;
        for (const auto& m : snap.messages) total += m.vsize;
        out += cat("SIZE ", total);
        break;
      }
    }
  }
  return cat("* STATUS ", mailbox_out(name), " (", out, ")");
}

void Session::cmd_status(Command& c) {
  if (c.args.size() != 2) return bad(c.tag, "STATUS needs a mailbox name and a list of items");
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, false)) return;
  auto items = status_items(c.args[1]);
  if (!items) return bad(c.tag, "Unknown STATUS item");
  auto line = status_line(name, *items);
  if (!line) return store_error(c.tag, line.error(), "STATUS");
  untagged(*line);
  finish(c.tag, "OK", "STATUS completed");
}

// APPEND mailbox [(flags)] [date-time] message, where the message may also
// be "UTF8 (literal8)" (RFC 6855 4). The message is durable when OK
// [APPENDUID] is sent. An empty message is refused, as Dovecot does.
void Session::cmd_append(Command& c) {
  if (c.args.size() >= 3 && c.args[c.args.size() - 2].is("UTF8") && c.args.back().is_list() &&
      c.args.back().items.size() == 1 && c.args.back().items[0].literal) {
    Value m = std::move(c.args.back().items[0]);
    c.args.pop_back();
    c.args.back() = std::move(m);
  }
  if (c.args.size() < 2 || c.args.size() > 4 || !c.args.back().is_string())
    return bad(c.tag, "APPEND needs a mailbox name and a message");
  std::string name;
  if (!mailbox_arg(c.tag, c.args[0], name, false)) return;
  mailstore::FlagSet flags;
  std::optional<std::int64_t> date;
  for (std::size_t i = 1; i + 1 < c.args.size(); ++i) {
    const Value& v = c.args[i];
    if (v.is_list() && i == 1) {
      auto f = parse_flags(v);
      if (!f) return bad(c.tag, f.error().detail);
      flags = std::move(*f);
    } else if (v.is_string() && !v.literal && !date) {
      auto d = parse_date_time(v.text);
      if (!d) return bad(c.tag, "Invalid date-time");
      date = *d;
    } else {
      return bad(c.tag, "Invalid APPEND arguments");
    }
  }
  const std::string& data = c.args.back().text;
  if (data.empty()) return finish(c.tag, "NO", "[CANNOT] An empty message cannot be saved");
  auto folder = store_->folder(name);
  if (!folder) {
    if (folder.error().code == Errc::not_found)
      return finish(c.tag, "NO", "[TRYCREATE] Mailbox does not exist");
    return store_error(c.tag, folder.error(), "APPEND");
  }
  auto r = folder->append(data, flags, date);
  if (!r) return store_error(c.tag, r.error(), "APPEND");
  finish(c.tag, "OK", cat("[APPENDUID ", r->uidvalidity, " ", r->uid, "] APPEND completed"));
}

}  // namespace posthorn::imapd

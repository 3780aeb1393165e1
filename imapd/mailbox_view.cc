// imapd/mailbox_view.cc - see mailbox_view.h.
#include "imapd/mailbox_view.h"

#include <algorithm>

#include "imapd/format.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {

using mailstore::SyncMode;

Result<std::unique_ptr<MailboxView>> MailboxView::open(mailstore::Folder folder, bool read_only) {
  std::unique_ptr<MailboxView> v(new MailboxView(std::move(folder), read_only));
  if (auto r = v->folder_.sync(read_only ? SyncMode::keep_new : SyncMode::move_new); !r)
    return std::move(r).error();
  const mailstore::Snapshot& snap = v->folder_.snapshot();
  v->uidvalidity_ = snap.uidvalidity;
  v->msgs_.reserve(snap.messages.size());
  for (const auto& m : snap.messages)
    v->msgs_.push_back({m.uid, m.flags, m.keyword_bits, m.recent});
  v->highest_uid_ = v->msgs_.empty() ? 0 : v->msgs_.back().uid;
  v->announced_ = v->keyword_names();
  v->cache_ = std::make_unique<FetchCache>(v->folder_.dir(), v->uidvalidity_);
  return v;
}

MailboxView::~MailboxView() {
  if (!cache_ || !cache_->loaded()) return;
  std::vector<std::uint32_t> live;
  for (const auto& m : folder_.snapshot().messages) live.push_back(m.uid);
  cache_->compact(live);
}

std::uint32_t MailboxView::recent() const {
  return static_cast<std::uint32_t>(
      std::count_if(msgs_.begin(), msgs_.end(), [](const ViewMessage& m) { return m.recent; }));
}

std::uint32_t MailboxView::seq_of(std::uint32_t uid) const {
  auto it = std::lower_bound(msgs_.begin(), msgs_.end(), uid,
                             [](const ViewMessage& m, std::uint32_t u) { return m.uid < u; });
  if (it == msgs_.end() || it->uid != uid) return 0;
  return static_cast<std::uint32_t>(it - msgs_.begin()) + 1;
}

const mailstore::Message* MailboxView::message(std::uint32_t seq) const {
  if (seq == 0 || seq > msgs_.size()) return nullptr;
  return folder_.snapshot().find(msgs_[seq - 1].uid);
}

std::uint32_t MailboxView::first_unseen() const {
  for (std::size_t i = 0; i < msgs_.size(); ++i)
    if (!(msgs_[i].flags & mailstore::kSeen)) return static_cast<std::uint32_t>(i + 1);
  return 0;
}

std::vector<std::string> MailboxView::keyword_names() const {
  std::vector<std::string> out;
  for (const auto& n : folder_.snapshot().keywords.names)
    if (!n.empty()) out.push_back(n);
  return out;
}

std::string MailboxView::flags_lines() const {
  std::string kw;
  for (const auto& n : announced_) kw += " " + n;
  bool room = announced_.size() < static_cast<std::size_t>(mailstore::kMaxKeywords);
  return cat("* FLAGS (", system_flag_names(), kw, ")\r\n", "* OK [PERMANENTFLAGS (",
             system_flag_names(), kw, room ? " \\*" : "", ")] Flags permitted.\r\n");
}

void MailboxView::announce_keywords(std::string& out) {
  if (std::vector<std::string> names = keyword_names(); names != announced_) {
    announced_ = std::move(names);
    out += flags_lines();
  }
}

void MailboxView::reported(std::uint32_t seq, unsigned flags, std::uint32_t keywords) {
  if (seq == 0 || seq > msgs_.size()) return;
  msgs_[seq - 1].flags = flags;
  msgs_[seq - 1].keywords = keywords;
}

Result<void> MailboxView::update(bool rescan, bool allow_expunge, bool with_uid, std::string& out) {
  if (rescan) {
    auto r = folder_.refresh(read_only_ ? SyncMode::keep_new : SyncMode::move_new);
    if (!r) return std::move(r).error();
  }
  const mailstore::Snapshot& snap = folder_.snapshot();
  if (snap.uidvalidity != uidvalidity_)
    return make_error(Errc::corrupt, "UIDVALIDITY changed");
  announce_keywords(out);
  // Flag changes and expunges of the messages already numbered.
  std::vector<std::uint32_t> gone;  // sequence numbers, ascending
  std::size_t j = 0;
  for (std::size_t i = 0; i < msgs_.size(); ++i) {
    ViewMessage& v = msgs_[i];
    while (j < snap.messages.size() && snap.messages[j].uid < v.uid) ++j;
    if (j == snap.messages.size() || snap.messages[j].uid != v.uid) {
      gone.push_back(static_cast<std::uint32_t>(i + 1));
      continue;
    }
    const mailstore::Message& m = snap.messages[j];
    if (m.flags == v.flags && m.keyword_bits == v.keywords) continue;
    v.flags = m.flags;
    v.keywords = m.keyword_bits;
    out += cat("* ", i + 1, " FETCH (");
    if (with_uid) out += cat("UID ", v.uid, " ");
    out += cat("FLAGS ", flag_list(m.flags, m.keywords, v.recent && !rev2_), ")\r\n");
  }
  if (allow_expunge && !gone.empty()) {
    for (auto it = gone.rbegin(); it != gone.rend(); ++it) out += cat("* ", *it, " EXPUNGE\r\n");
    std::size_t k = 0;  // `gone` is ascending
    std::vector<ViewMessage> kept;
    kept.reserve(msgs_.size() - gone.size());
    for (std::size_t i = 0; i < msgs_.size(); ++i) {
      if (k < gone.size() && gone[k] == i + 1) {
        ++k;
        continue;
      }
      kept.push_back(msgs_[i]);
    }
    msgs_ = std::move(kept);
  }
  // New messages: those above every UID numbered so far.
  std::size_t before = msgs_.size();
  auto first_new = std::upper_bound(
      snap.messages.begin(), snap.messages.end(), highest_uid_,
      [](std::uint32_t u, const mailstore::Message& m) { return u < m.uid; });
  for (auto it = first_new; it != snap.messages.end(); ++it)
    msgs_.push_back({it->uid, it->flags, it->keyword_bits, it->recent});
  if (msgs_.size() != before) {
    highest_uid_ = msgs_.back().uid;
    out += cat("* ", msgs_.size(), " EXISTS\r\n");
    if (!rev2_) out += cat("* ", recent(), " RECENT\r\n");
  }
  return {};
}

}  // namespace posthorn::imapd

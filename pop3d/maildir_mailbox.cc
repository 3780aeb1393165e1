// pop3d/maildir_mailbox.cc - see maildir_mailbox.h.
#include "pop3d/maildir_mailbox.h"

#include "lib/base/strings.h"

namespace posthorn::pop3d {

Result<std::unique_ptr<MaildirMailbox>> MaildirMailbox::open(const std::filesystem::path& root) {
  auto store = mailstore::Store::open(root, true);
  if (!store) return std::move(store).error();
  auto lock = store->lock_session(false);
  if (!lock) return std::move(lock).error();
  auto folder = store->folder("INBOX");
  if (!folder) return std::move(folder).error();
  if (auto s = folder->sync(mailstore::SyncMode::keep_new); !s) return std::move(s).error();
  std::unique_ptr<MaildirMailbox> box(new MaildirMailbox(std::move(*lock), std::move(*folder)));
  const mailstore::Snapshot& snap = box->folder_.snapshot();
  box->uids_.reserve(snap.messages.size());
  box->infos_.reserve(snap.messages.size());
  for (const mailstore::Message& m : snap.messages) {
    box->uids_.push_back(m.uid);
    box->infos_.push_back(MessageInfo{m.vsize, cat(snap.uidvalidity, ".", m.uid)});
  }
  return box;
}

Result<std::string> MaildirMailbox::read(std::size_t index) {
  if (index >= uids_.size()) return make_error(Errc::invalid, cat("no message at index ", index));
  return folder_.read_message(uids_[index]);
}

Result<void> MaildirMailbox::remove(const std::vector<std::size_t>& indices) {
  std::vector<std::uint32_t> uids;
  uids.reserve(indices.size());
  for (std::size_t i : indices)
    if (i < uids_.size()) uids.push_back(uids_[i]);
  auto r = folder_.remove(uids);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace posthorn::pop3d

// pop3d/maildir_mailbox.cc - see maildir_mailbox.h.
#include "pop3d/maildir_mailbox.h"

#include <malloc.h>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::pop3d {

Result<std::unique_ptr<MaildirMailbox>> MaildirMailbox::open(const std::filesystem::path& root) {
  auto store = mailstore::Store::open(root, true);
  if (!store) return std::move(store).error();
  auto lock = store->lock_session(false);
  if (!lock) return std::move(lock).error();
  std::unique_ptr<MaildirMailbox> box(new MaildirMailbox(std::move(*store), std::move(*lock)));
  {
    auto folder = box->store_.folder("INBOX");
    if (!folder) return std::move(folder).error();
    if (auto s = folder->sync(mailstore::SyncMode::keep_new); !s) return std::move(s).error();
    const mailstore::Snapshot& snap = folder->snapshot();
    const std::size_t n = snap.messages.size();
    box->uids_.reserve(n);
    box->files_.reserve(n);
    box->infos_.reserve(n);
    for (const mailstore::Message& m : snap.messages) {
      box->uids_.push_back(m.uid);
      box->files_.push_back(m.path);
      box->infos_.push_back(MessageInfo{m.vsize, cat(snap.uidvalidity, ".", m.uid)});
    }
  }
  ::malloc_trim(0);  // the snapshot and the scan's tables are gone: give their pages back
  return box;
}

Result<std::string> MaildirMailbox::read(std::size_t index) {
  if (index >= uids_.size()) return make_error(Errc::invalid, cat("no message at index ", index));
  auto data = read_file(files_[index], std::size_t{1} << 30);
  if (data || data.error().code != Errc::not_found) return data;
  // Renamed (or removed) since the listing: ask the folder where it is now.
  auto folder = store_.folder("INBOX");
  if (!folder) return std::move(folder).error();
  if (auto s = folder->sync(mailstore::SyncMode::keep_new); !s) return std::move(s).error();
  const mailstore::Message* m = folder->snapshot().find(uids_[index]);
  if (!m) return make_error(Errc::not_found, cat("message ", uids_[index], " is gone"));
  files_[index] = m->path;
  return folder->read_message(uids_[index]);
}

Result<void> MaildirMailbox::remove(const std::vector<std::size_t>& indices) {
  std::vector<std::uint32_t> uids;
  uids.reserve(indices.size());
  for (std::size_t i : indices)
    if (i < uids_.size()) uids.push_back(uids_[i]);
  auto folder = store_.folder("INBOX");
  if (!folder) return std::move(folder).error();
  auto r = folder->remove(uids);  // rescans under the folder lock first
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace posthorn::pop3d

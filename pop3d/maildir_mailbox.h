// pop3d/maildir_mailbox.h - a POP3 session's mailbox: the INBOX of a
// Maildir++ store, through lib/mailstore.
//
// Guarantees:
// - the store's session lock (posthorn-session.lock, FORMAT.md "Locks") is
//   held for the object's life: a second POP3 session of the same user, in
//   any process, gets Errc::busy ([IN-USE]); IMAP sessions and delivery do
//   not take it and go on;
// - the message list is one sync of the folder (new/ stays as it is: POP3
//   does not make messages "seen"), with every message's UID given under
//   the folder lock; the listing reads no message (sizes come from the
//   file names or the cached list);
// - a message's UIDL is "<UIDVALIDITY>.<UID>", the identity IMAP shows for
//   it (Dovecot's pop3_uidl_format "%v.%u"), stable across sessions as long
//   as the folder's UID list is;
// - a message renamed by another program since the listing (flags changed,
//   moved from new/ to cur/) is found again by a fresh sync;
// - remove() unlinks only the messages asked for, by UID, under the folder
//   lock; one that is already gone counts as removed.
// Memory: only the list (UID, file name, size, UIDL) is kept after the
// sync, not the folder's snapshot, and the heap the sync used is handed back
// (malloc_trim), so a large mailbox costs its list and no more.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "lib/mailstore/store.h"
#include "pop3d/session.h"

namespace posthorn::pop3d {

class MaildirMailbox : public Mailbox {
 public:
  // Opens the store at `root` (creating an empty Maildir when there is none
  // yet: nothing was delivered so far), takes the session lock and lists
  // INBOX. Errors: Errc::busy (locked), those of Store::open and sync.
  static Result<std::unique_ptr<MaildirMailbox>> open(const std::filesystem::path& root);

  const std::vector<MessageInfo>& messages() const override { return infos_; }
  Result<std::string> read(std::size_t index) override;
  Result<void> remove(const std::vector<std::size_t>& indices) override;

 private:
  MaildirMailbox(mailstore::Store store, mailstore::FileLock lock)
      : store_(std::move(store)), lock_(std::move(lock)) {}

  mailstore::Store store_;
  mailstore::FileLock lock_;
  std::vector<std::uint32_t> uids_;  // of messages()[i]
  std::vector<std::string> files_;   // their paths at the sync
  std::vector<MessageInfo> infos_;
};

}  // namespace posthorn::pop3d

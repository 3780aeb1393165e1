// lib/mailstore/store.h - one user's mail store: a Maildir++ tree.
//
// The root is a Maildir (INBOX: cur/ new/ tmp/); every other folder is a
// Maildir named "." + name directly under the root, '.' separating hierarchy
// levels (".Sent", ".Archive.2024"), as Courier and Dovecot lay it out, so
// mutt, Dovecot and Courier read what Posthorn writes and the other way round.
// Folder names are checked by canonical_folder_name() (names.h) before they
// touch the file system.
//
// Subscriptions are kept in the root's "subscriptions" file, the name and the
// one-name-per-line format Dovecot reads for Maildir++ (Courier's file is
// courierimapsubscribed; we do not write it).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/mailstore/folder.h"
#include "lib/mailstore/lock.h"

namespace posthorn::mailstore {

class Store {
 public:
  // Opens the store at `root`. With create=true a missing root Maildir (and
  // missing parent directories) is created, mode 0700. Errors: Errc::not_found
  // (no Maildir at root and create=false), Errc::io, Errc::permission.
  static Result<Store> open(const std::filesystem::path& root, bool create);

  const std::filesystem::path& root() const { return root_; }

  // The Maildir of a folder (validated name; it need not exist). Errors:
  // Errc::invalid for a refused name.
  Result<std::filesystem::path> folder_path(std::string_view name) const;
  // A Folder object for an existing folder (not yet synced). Errors:
  // Errc::invalid, Errc::not_found.
  Result<Folder> folder(std::string_view name) const;

  // Folder names: "INBOX" first, then the others sorted. Directories whose
  // names are not valid folder names are left out.
  Result<std::vector<std::string>> list() const;
  // Errors: Errc::invalid, Errc::exists (INBOX always exists).
  Result<void> create(std::string_view name);
  // Deletes a folder and its messages; sub-folders stay (Maildir++ keeps them
  // in their own directories). Errors: Errc::invalid (INBOX), not_found.
  Result<void> remove(std::string_view name);
  // Renames a folder and its sub-folders (RFC 3501 6.3.5). Renaming INBOX
  // moves its messages into a new folder `to` and leaves INBOX empty; INBOX's
  // sub-folders stay. Errors: Errc::invalid, not_found, exists.
  Result<void> rename(std::string_view from, std::string_view to);

  // Subscribed names, in file order. A missing file is an empty list.
  Result<std::vector<std::string>> subscriptions() const;
  // Adds/removes a name (which need not exist as a folder). Idempotent.
  Result<void> subscribe(std::string_view name);
  Result<void> unsubscribe(std::string_view name);

  // The per-user session lock (POP3's exclusive mailbox lock, RFC 2449
  // [IN-USE]): Errc::busy while another session, in this or another process,
  // holds it. Released when the FileLock is destroyed or the process dies.
  Result<FileLock> lock_session(bool wait = false) const;

 private:
  explicit Store(std::filesystem::path root) : root_(std::move(root)) {}
  Result<void> rename_inbox(const std::string& to);
  Result<void> edit_subscriptions(const std::string& name, bool add);
  std::filesystem::path root_;
};

// Local delivery of a whole message into a folder's new/ (Maildir protocol,
// no lock taken: delivery never waits for IMAP or POP3 sessions). Returns the
// file name. The message gets its UID at the next sync of the folder.
Result<std::string> deliver(const std::filesystem::path& folder_dir, std::string_view message);

}  // namespace posthorn::mailstore

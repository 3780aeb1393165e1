// lib/mailstore/folder.h - one Maildir folder with IMAP-grade identity.
//
// Guarantees (see FORMAT.md for the files):
// - UIDs are assigned only under the folder lock (posthorn-uidlist.lock) from
//   the list file read under that lock, and the list is replaced atomically,
//   so two sessions (or processes) never give two messages one UID.
// - Flags live in the file names; a flag change is one rename(2) of one file,
//   done under the folder lock. If the file has been renamed or removed by
//   someone else meanwhile, the folder is rescanned and the change retried on
//   the file's current name, so no flag set by another program is lost.
// - A message is only ever removed by an explicit expunge/remove; sync never
//   deletes files. A damaged or missing list means a new UIDVALIDITY and fresh
//   UIDs for every message, never an error or a lost message.
//
// A Folder object is one session's view; it is not thread-safe. References
// into snapshot() are invalidated by every call that may rescan, and every
// call that changes the folder rescans it first (under the lock), so the
// snapshot may gain or lose messages at any call: imapd keeps its own
// sequence-number map and reports EXISTS/EXPUNGE from differences between
// snapshots at the points RFC 3501 7.4.1 allows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/fd.h"
#include "lib/base/result.h"
#include "lib/mailstore/keywords.h"
#include "lib/mailstore/lock.h"
#include "lib/mailstore/uidlist.h"

namespace posthorn::mailstore {

struct Message {
  std::uint32_t uid = 0;
  unsigned flags = 0;              // Flag bits (names.h)
  std::uint32_t keyword_bits = 0;  // letter bits, named by Snapshot::keywords
  std::vector<std::string> keywords;  // their names
  std::uint64_t size = 0;          // bytes on disk
  std::uint64_t vsize = 0;         // bytes with CRLF line endings (POP3 octets, RFC822.SIZE)
  std::int64_t internal_date = 0;  // seconds since the epoch (file mtime when first seen)
  std::string base;                // Maildir base name: stable for the message's life
  std::string other_flags;         // flag letters Posthorn does not know, kept as they are
  // Where the file was at the last scan. A string, not a filesystem::path:
  // libstdc++ splits a path into components when it is made, which costs
  // some 500 bytes per message in a snapshot of a large folder.
  std::string path;
  bool in_new = false;             // still in new/ (not yet seen by an IMAP session)
  // Moved from new/ to cur/ by the sync(move_new) that made this snapshot:
  // IMAP \Recent belongs to this session (RFC 3501 2.3.2). Only that one call
  // reports it; imapd keeps the set for the session's life.
  bool recent = false;
};

struct Snapshot {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::vector<Message> messages;  // ascending uid
  KeywordTable keywords;
  // The message with `uid`, or nullptr.
  const Message* find(std::uint32_t uid) const;
};

enum class SyncMode {
  keep_new,  // POP3: leave new/ as it is
  move_new,  // IMAP: move new/ to cur/ (the messages have been seen by a client)
};
enum class FlagOp { add, remove, replace };

struct FlagSet {
  unsigned flags = 0;                 // Flag bits
  std::vector<std::string> keywords;  // IMAP keyword names
};

struct UidPair {
  std::uint32_t source, target;
};
struct CopyResult {  // for COPYUID / MOVE: UIDVALIDITY of the target and the pairs
  std::uint32_t uidvalidity = 0;
  std::vector<UidPair> pairs;  // in ascending source uid
};
struct AppendResult {  // for APPENDUID
  std::uint32_t uidvalidity = 0;
  std::uint32_t uid = 0;
};

class Folder {
 public:
  // `root` is the store root (for the store-wide UIDVALIDITY counter), `dir`
  // the folder's Maildir. Nothing is read until sync(). Use Store::folder().
  Folder(std::filesystem::path root, std::string name, std::filesystem::path dir);

  const std::string& name() const { return name_; }
  // The Maildir: watch dir()/"new" and dir()/"cur" (inotify) for IDLE.
  const std::filesystem::path& dir() const { return dir_; }

  // Rescans new/ and cur/ under the folder lock: assigns UIDs (in order of
  // arrival) to files added by anyone, forgets files that disappeared,
  // rewrites the list if anything changed, and refreshes snapshot(). The
  // directories are not read when the list file says where every file was
  // and new/ and cur/ have not changed since (by the rule of refresh(), and
  // in move_new mode only if nothing was left in new/): a later session of a
  // quiet folder costs one file read, not a walk of 10,000 names.
  // Errors: Errc::io and friends from the file system; never Errc::corrupt.
  Result<void> sync(SyncMode mode);
  // sync(), unless neither new/ nor cur/ has changed since the last scan
  // (and, in move_new mode, that scan left nothing in new/). Changes are
  // judged by the directories' modification times, and only where those
  // can tell: a directory that had changed less than kRacyInterval before
  // the last scan began is always read again, since a later change in the
  // same clock tick would leave its time as it was. Returns whether it
  // rescanned. An IMAP session calls this after every command.
  Result<bool> refresh(SyncMode mode);
  static constexpr std::int64_t kRacyInterval = 2;  // seconds
  const Snapshot& snapshot() const { return snap_; }

  // Opens a message read-only (the caller owns the Fd). A file renamed or
  // moved meanwhile is found again by rescanning. Errors: Errc::not_found
  // when the message is gone (expunged elsewhere), Errc::io.
  Result<Fd> open_message(std::uint32_t uid);
  Result<std::string> read_message(std::uint32_t uid, std::size_t max_bytes = 1u << 30);

  // Changes flags and keywords of the messages in `uids` (missing UIDs are
  // skipped: they were expunged). New keyword names are added to the keyword
  // table. Errors: Errc::too_large (27th keyword), Errc::invalid (bad keyword
  // name), Errc::io.
  Result<void> store(const std::vector<std::uint32_t>& uids, FlagOp op, const FlagSet& set);

  // Adds a message with flags and an internal date (default: now) and returns
  // its UID. The message is durable when this returns.
  Result<AppendResult> append(std::string_view data, const FlagSet& set = {},
                              std::optional<std::int64_t> internal_date = {});

  // Copies messages (with flags, keywords, internal date) into `dest`, hard
  // linking where possible. UIDs not in the snapshot are skipped.
  Result<CopyResult> copy_to(Folder& dest, const std::vector<std::uint32_t>& uids);
  // copy_to, then removes the sources. A crash in between leaves the messages
  // in both folders, never in neither.
  Result<CopyResult> move_to(Folder& dest, const std::vector<std::uint32_t>& uids);

  // Removes messages flagged \Deleted (T), only those in `within` if given
  // (UID EXPUNGE). Judged on the file names at the time of the call, so a flag
  // cleared by another session just before is respected. Returns the UIDs
  // removed, ascending.
  Result<std::vector<std::uint32_t>> expunge_deleted(
      const std::optional<std::vector<std::uint32_t>>& within = {});
  // Removes the messages in `uids` whatever their flags (POP3 DELE at QUIT).
  Result<std::vector<std::uint32_t>> remove(const std::vector<std::uint32_t>& uids);

 private:
  // A message prepared elsewhere (tmp/ file in this folder) waiting for a UID.
  struct Pending {
    std::filesystem::path tmp;  // a file in dir()/tmp
    std::string base;           // its base name, with ,S= and ,W=
    FlagSet set;
    std::int64_t internal_date = 0;
    std::uint64_t size = 0, vsize = 0;
  };
  // Publishes the pending files into cur/ and gives them consecutive UIDs,
  // all under one hold of the folder lock. Returns the UIDs in order.
  Result<std::vector<std::uint32_t>> commit(std::vector<Pending>& pending);

  Result<FileLock> lock() const;
  Result<void> scan_locked(SyncMode mode);
  Result<Uidlist> load_list(bool& dirty) const;
  Result<void> save_list(const Uidlist& list) const;
  Result<void> save_keywords() const;
  Result<std::uint32_t> keyword_bits(const std::vector<std::string>& names, bool add);
  Result<void> rename_flags(const Message& m, unsigned flags, std::uint32_t kw, bool& vanished);
  Result<std::vector<std::uint32_t>> remove_locked(const std::vector<std::uint32_t>& uids);
  Result<std::optional<Pending>> prepare_copy(const Message& m, Folder& dest);
  Message* find_mut(std::uint32_t uid);
  Uidlist list_from_snapshot() const;

  // The state of new/ and cur/ when the last scan began (see refresh()).
  DirStamp stamp(const char* sub) const;
  bool list_current(const Uidlist& list, SyncMode mode) const;
  void take_stamps();

  std::filesystem::path root_, dir_;
  std::string name_;
  Snapshot snap_;
  DirStamp new_stamp_, cur_stamp_;
  bool stamps_trusted_ = false;
};

// Issues a UIDVALIDITY that is larger than every one issued before in the store
// rooted at `root` (file posthorn-uidvalidity): the current time, or the last
// value plus one if that is not larger. Never 0.
Result<std::uint32_t> next_uidvalidity(const std::filesystem::path& root);

}  // namespace posthorn::mailstore

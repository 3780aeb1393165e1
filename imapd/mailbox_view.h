// imapd/mailbox_view.h - a session's view of its selected mailbox: the
// message sequence numbers it has told the client about, the flags it last
// reported, and its \Recent messages.
//
// lib/mailstore's Folder snapshot moves on whenever anyone changes the
// folder; the client must only learn about that through EXISTS, EXPUNGE and
// FETCH responses at the points RFC 3501 (7.4.1, 5.2) allows. update()
// compares the view with a fresh snapshot and writes those responses.
//
// Guarantees: sequence numbers change only through update() with
// allow_expunge (EXPUNGE responses, highest first so that each number is
// right when the client reads it) and new messages (EXISTS); a message
// expunged elsewhere keeps its number until then (message() is nullptr for
// it). A changed UIDVALIDITY or a folder that disappeared is an error the
// session must end on (RFC 3501 2.3.1.1: the client's UIDs are void).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imapd/fetch_cache.h"
#include "lib/base/result.h"
#include "lib/mailstore/folder.h"

namespace posthorn::imapd {

struct ViewMessage {
  std::uint32_t uid = 0;
  unsigned flags = 0;          // as last reported
  std::uint32_t keywords = 0;  // keyword letter bits as last reported
  bool recent = false;
};

class MailboxView {
 public:
  // Syncs `folder` (moving new/ to cur/ unless read_only: EXAMINE claims no
  // \Recent messages) and numbers its messages. Errors: those of sync().
  static Result<std::unique_ptr<MailboxView>> open(mailstore::Folder folder, bool read_only);

  ~MailboxView();  // compacts the fetch cache when it is mostly dead
  mailstore::Folder& folder() { return folder_; }
  FetchCache& cache() { return *cache_; }
  bool read_only() const { return read_only_; }
  std::uint32_t uidvalidity() const { return uidvalidity_; }
  std::uint32_t exists() const { return static_cast<std::uint32_t>(msgs_.size()); }
  std::uint32_t recent() const;
  // Sequence number `seq` (1..exists()).
  const ViewMessage& at(std::uint32_t seq) const { return msgs_[seq - 1]; }
  // The sequence number of `uid`, or 0.
  std::uint32_t seq_of(std::uint32_t uid) const;
  // The folder's current message for `seq`; nullptr once expunged.
  const mailstore::Message* message(std::uint32_t seq) const;
  // IMAP4rev2 (RFC 9051) has no \Recent: no RECENT responses, no flag.
  void set_rev2(bool on) { rev2_ = on; }
  // Whether `seq` shows \Recent.
  bool shows_recent(std::uint32_t seq) const { return !rev2_ && msgs_[seq - 1].recent; }
  // The first sequence number without \Seen, or 0.
  std::uint32_t first_unseen() const;

  // "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" lines (CRLF included).
  std::string flags_lines() const;

  // Appends the FLAGS lines when the folder's keywords changed since they
  // were last announced (before FETCH responses that use a new keyword).
  void announce_keywords(std::string& out);

  // Brings the view up to date: refreshes the folder first when `rescan`, then
  // appends the untagged responses to `out` (FETCH FLAGS with UID when
  // `with_uid`). Errors: Errc::corrupt (UIDVALIDITY changed), Errc::not_found
  // (the folder is gone), others from sync().
  Result<void> update(bool rescan, bool allow_expunge, bool with_uid, std::string& out);

  // The session told the client these flags itself (STORE, FETCH setting \Seen).
  void reported(std::uint32_t seq, unsigned flags, std::uint32_t keywords);

 private:
  MailboxView(mailstore::Folder folder, bool read_only)
      : folder_(std::move(folder)), read_only_(read_only) {}
  std::vector<std::string> keyword_names() const;

  mailstore::Folder folder_;
  bool read_only_;
  bool rev2_ = false;
  std::uint32_t uidvalidity_ = 0;
  std::uint32_t highest_uid_ = 0;  // the largest UID ever numbered
  std::vector<ViewMessage> msgs_;
  std::vector<std::string> announced_;  // keywords named in the last FLAGS response
  std::unique_ptr<FetchCache> cache_;
};

}  // namespace posthorn::imapd

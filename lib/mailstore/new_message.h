// lib/mailstore/new_message.h - writing one message into a Maildir folder.
//
// The Maildir protocol: create tmp/<unique> exclusively, write, fsync, then
// link it into new/ (or cur/) under its final name and fsync that directory.
// Until deliver() or take() returns, the message is invisible to readers;
// after a crash at any point it is either absent (a stray tmp/ file at worst)
// or complete. The final name carries ",S=<size>,W=<vsize>" so listings and
// POP3 octet counts need not read the message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "lib/base/fd.h"
#include "lib/base/result.h"

namespace posthorn::mailstore {

// CRLF size of `data` given whether the byte before it was '\r'.
std::uint64_t crlf_extra(std::string_view data, bool& last_was_cr);

class NewMessage {  // move-only; removes its tmp/ file unless delivered
 public:
  // Starts a message in `folder_dir`/tmp. Errors: Errc::io / not_found.
  static Result<NewMessage> create(const std::filesystem::path& folder_dir);

  NewMessage(NewMessage&&) noexcept;
  NewMessage& operator=(NewMessage&&) = delete;
  ~NewMessage();

  // Appends bytes as they are (no line-ending conversion).
  Result<void> write(std::string_view chunk);
  // Sets the internal date (file mtime, applied by finish()), e.g. for IMAP APPEND.
  Result<void> set_internal_date(std::int64_t seconds);
  // fsyncs and closes the file; required before deliver() or take().
  Result<void> finish();

  // Publishes the message into new/ and fsyncs new/. Returns the final file
  // name (without directory). This is local delivery: no lock, no UID yet.
  Result<std::string> deliver();

  std::uint64_t size() const { return size_; }
  std::uint64_t vsize() const { return size_ + extra_; }
  // "<unique>,S=<size>,W=<vsize>": the base name the message will have.
  std::string base() const;
  const std::filesystem::path& tmp_path() const { return tmp_; }
  // Hands the tmp/ file over to the caller (the folder commits it under its
  // lock); this object no longer removes it.
  void release_tmp() { tmp_.clear(); }

 private:
  NewMessage(std::filesystem::path dir, std::string unique, Fd fd);
  std::filesystem::path dir_, tmp_;
  std::string unique_;
  Fd fd_;
  std::uint64_t size_ = 0, extra_ = 0;
  std::int64_t date_ = 0;
  bool last_cr_ = false, has_date_ = false;
};

// Publishes `from` as `to` without ever replacing an existing file: link()
// then unlink(), or rename() on file systems without hard links.
// Errors: Errc::exists, Errc::not_found, Errc::io.
Result<void> publish(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace posthorn::mailstore

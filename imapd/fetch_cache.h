// imapd/fetch_cache.h - ENVELOPE, BODY and BODYSTRUCTURE of a folder's
// messages kept across sessions, so that a client that fetches them again
// (every client, at every start) costs no file reads and no MIME parsing.
//
// The file is "posthorn-cache" in the folder's Maildir (lib/mailstore's
// FORMAT.md lists it):
//
//   posthorn-cache 1 <uidvalidity>\n
//   <uid> <kind> <length>\n<length octets>\n      kind: E, B or S
//   ...
//
// Guarantees: a message's octets never change under its UID, so an entry
// never goes stale while UIDVALIDITY stays; a file of another UIDVALIDITY is
// replaced. Records are appended with O_APPEND, whole records per write(2),
// so writers (other sessions, other processes) do not tear each other's
// records; a record cut short (a crash) ends the reading there, and nothing
// after it is used. The file is a cache: losing it, or a write to it that
// fails, costs only the work of computing the strings again.
// Bounds: files above kMaxFile octets are not read (and are started over);
// a file whose records are mostly of expunged messages is rewritten with the
// live ones (compacted) under posthorn-cache.lock, atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace posthorn::imapd {

class FetchCache {
 public:
  enum class Kind : char { envelope = 'E', body = 'B', bodystructure = 'S' };
  static constexpr std::size_t kMaxFile = 64u << 20;
  static constexpr std::size_t kWriteBatch = 64 * 1024;

  // Nothing is read before the first lookup.
  FetchCache(std::filesystem::path folder_dir, std::uint32_t uidvalidity);
  ~FetchCache();  // writes what is pending
  FetchCache(const FetchCache&) = delete;
  FetchCache& operator=(const FetchCache&) = delete;

  // The cached string, or nullopt.
  std::optional<std::string_view> find(std::uint32_t uid, Kind kind);
  // Keeps a string computed now; written to the file in batches.
  void add(std::uint32_t uid, Kind kind, std::string value);
  // Writes the pending records (also done when the batch is full).
  void flush();
  // Rewrites the file with the records of `live` UIDs (ascending) only,
  // when most of its records belong to other UIDs (expunged messages) or it
  // was made under another UIDVALIDITY. Does nothing if nothing was read.
  void compact(const std::vector<std::uint32_t>& live);

  std::size_t size() const { return entries_.size(); }
  bool loaded() const { return loaded_; }

 private:
  struct Key {
    std::uint32_t uid;
    char kind;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return (std::size_t{k.uid} << 2) ^ k.kind; }
  };
  void load();
  std::string header() const;
  // Writes the header and `records` to a new file that replaces the old.
  bool replace(const std::string& records);

  std::filesystem::path path_;
  std::uint32_t uidvalidity_;
  bool loaded_ = false;
  bool foreign_ = false;     // the file is of another UIDVALIDITY (or damaged at its start)
  std::size_t records_ = 0;  // in the file, duplicates included
  std::size_t pending_records_ = 0;
  std::unordered_map<Key, std::string, KeyHash> entries_;
  std::string pending_;
};

}  // namespace posthorn::imapd

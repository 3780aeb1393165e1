// lib/maps/table_types.h - the per-type constructors behind open_table() and
// create_table(); internal to lib/maps. Each returns the errors open_table()
// and create_table() document.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lib/maps/builder.h"
#include "lib/maps/table.h"

namespace posthorn::maps::detail {

// `spec` is the whole "type:name", kept for messages and Table::spec().
Result<std::unique_ptr<Table>> open_inline(std::string spec, std::string_view body,
                                           const OpenOptions& opts);
Result<std::unique_ptr<Table>> open_static(std::string spec, std::string_view body);
// unix:passwd.byname, unix:group.byname, unix:shadow (unix_table.cc).
Result<std::unique_ptr<Table>> open_unix(std::string spec, std::string_view name,
                                         const OpenOptions& opts);
Result<std::unique_ptr<Table>> open_texthash(std::string spec, const std::string& path,
                                             const OpenOptions& opts);
Result<std::unique_ptr<Table>> open_regexp(std::string spec, const std::string& path);
Result<std::unique_ptr<Table>> open_lmdb(std::string spec, const std::string& path,
                                         const OpenOptions& opts);
Result<std::unique_ptr<TableBuilder>> create_lmdb(const std::string& path,
                                                  const BuildOptions& opts);
#ifndef POSTHORN_WITHOUT_BDB
// btree: DB_BTREE, else DB_HASH. Defined in bdb_table.cc.
Result<std::unique_ptr<Table>> open_bdb(std::string spec, const std::string& path, bool btree,
                                        const OpenOptions& opts);
Result<std::unique_ptr<TableBuilder>> create_bdb(const std::string& path, bool btree,
                                                 const BuildOptions& opts);
#endif

// "unknown table type ...; known types: ..." (Errc::invalid).
Error unknown_type(std::string_view type);
// hash:/btree: in a build without Berkeley DB: names lmdb: (Errc::unsupported).
Error no_bdb(std::string_view type);

// The entries a builder collected, in the order they were added.
using EntryList = std::vector<std::pair<std::string, std::string>>;

// The builders keep the table in memory until commit(), then write it into a
// fresh temporary file in one go (LMDB must restart a write that outgrew its
// map size; holding the entries makes that simple) and publish it.
class BufferedBuilder : public TableBuilder {
 public:
  BufferedBuilder(std::string path, unsigned mode) : TableBuilder(std::move(path)), mode_(mode) {}
  Result<bool> add(std::string_view key, std::string_view value) override;
  void reserve(std::size_t n) override {
    entries_.reserve(n);
    keys_.reserve(n);
  }
  Result<void> commit() override;

 protected:
  // Writes every entry, each key and value with a trailing NUL, into the
  // existing empty file `temp_path` and flushes it.
  virtual Result<void> write_table(const std::string& temp_path, const EntryList& entries) = 0;

 private:
  EntryList entries_;
  std::unordered_set<std::string> keys_;
  unsigned mode_;
  bool spent_ = false;
};

// Postfix stores keys and values with a trailing NUL by default: a stored
// value loses one trailing NUL when read.
inline std::string_view strip_nul(std::string_view v) {
  if (!v.empty() && v.back() == '\0') v.remove_suffix(1);
  return v;
}

// The reader side of Postfix's locking of indexed tables: a shared flock(2)
// on the table file for the length of one lookup, so a Postfix postmap that
// rewrites the file in place (under an exclusive flock) is waited for. Under
// the lock the file must still be the one that was opened: a file rewritten
// in place since then is refused (Errc::busy, "reopen"), because the
// library's cached pages or memory map no longer match it (LMDB would read
// past the end of a truncated map and die of SIGBUS).
class LookupLock {
 public:
  // Records the size and modification time of `fd` at open.
  LookupLock(int fd, std::string path);
  // Takes the lock and checks the file; the lock is held until the returned
  // guard goes.
  class Guard {
   public:
    explicit Guard(int fd) : fd_(fd) {}
    Guard(Guard&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Guard& operator=(Guard&&) = delete;
    ~Guard();

   private:
    int fd_;
  };
  Result<Guard> acquire() const;

 private:
  int fd_;
  std::string path_;
  long long size_ = -1;
  long long mtime_ns_ = -1;
};

// A new empty file beside `final_path` (mkstemp: unique, never a symlink
// target) for a builder to fill; its path is returned.
Result<std::string> make_temp_beside(const std::string& final_path);

// The last steps of every build: give the temporary the final mode (or the
// old file's mode and owner), fsync it, rename it over `final_path`, fsync
// the directory.
Result<void> publish_file(const std::string& temp_path, const std::string& final_path,
                          unsigned mode);

}  // namespace posthorn::maps::detail

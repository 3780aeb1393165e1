// lib/maps - lookup tables named "type:name", as Postfix names them.
//
// One interface (Table), one class per type, one factory (open_table):
//
//   hash:NAME      Berkeley DB hash file NAME.db      (absent under WITHOUT_BDB)
//   btree:NAME     Berkeley DB btree file NAME.db     (absent under WITHOUT_BDB)
//   lmdb:NAME      LMDB file NAME.lmdb (no sub-directory, as Postfix's postmap makes it)
//   texthash:NAME  the postmap source text NAME, read into memory at open
//   inline:{k=v, { k2 = v with spaces }}
//   static:VALUE   or static:{VALUE with spaces}: every key finds VALUE
//   regexp:NAME    POSIX regular expressions in regexp_table(5) syntax
//
// Guarantees:
// - Keys are folded to lower case before a fixed-key lookup unless the table
//   was opened case_sensitive (Postfix's default). regexp tables match the key
//   as given; their patterns are case-insensitive unless the `i` flag says not.
// - Files written by Postfix's postmap/postalias are read as they are: keys and
//   values stored with a trailing NUL byte (Postfix's default) and without.
// - A damaged or unreadable file is an Error (Errc::corrupt / io), never a crash.
//   XXX: for LMDB and Berkeley DB this holds for truncated and foreign files,
//   which are checked at open; a file whose inner pages were overwritten by
//   random bytes can still mislead either library, as it can Postfix.
// Refusals: unknown types (the error lists the known ones), keys with NUL bytes
// in fixed tables (a NUL ends a key in every Postfix table format).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::maps {

struct OpenOptions {
  // Do not fold keys to lower case (postmap -f). Pattern tables ignore it.
  bool case_sensitive = false;
};

// Where a warning that does not stop the table from opening came from.
struct Diagnostic {
  std::string file;
  int line = 0;
  std::string text;
  std::string str() const;  // "FILE, line N: TEXT", postmap's shape
};

class Table {
 public:
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  virtual ~Table() = default;

  // Looks `key` up. Value: the stored result (without Postfix's trailing NUL);
  // nullopt: not in the table. Error: the table could not be read (corrupt,
  // io) or the key cannot be looked up (Errc::invalid: a NUL in the key).
  virtual Result<std::optional<std::string>> lookup(std::string_view key) const = 0;

  // Calls fn(key, value) for every entry, in the table's order. Errc::unsupported
  // for tables without a finite list of entries (regexp, static).
  using EntryFn = std::function<void(std::string_view key, std::string_view value)>;
  virtual Result<void> for_each(const EntryFn& fn) const;

  // Pattern tables (regexp, static) see whole keys: address lookups must not
  // break an address into user and @domain for them (Postfix's rule).
  virtual bool is_pattern() const { return false; }

  // True when the file behind the table was replaced or modified since open
  // (a long-running program then reopens it, as Postfix's daemons restart).
  // Always false for tables without a file (inline, static).
  bool changed() const;

  // "type:name" as given to open_table.
  const std::string& spec() const { return spec_; }
  // Warnings met while reading the source (texthash: postmap's warnings).
  const std::vector<Diagnostic>& warnings() const { return warnings_; }

 protected:
  explicit Table(std::string spec) : spec_(std::move(spec)) {}
  // Remembers the identity of `path` so changed() can compare; called at open.
  void watch_file(const std::string& path);
  std::vector<Diagnostic> warnings_;
  bool fold_ = true;  // fold keys to lower case before lookup

  // Applies fold_ to a key; Errc::invalid for keys holding a NUL.
  Result<std::string> prepare_key(std::string_view key) const;

 private:
  std::string spec_;
  std::string watched_path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  long long mtime_ns_ = 0;
  long long size_ = -1;
};

// A parsed "type:name".
struct TableSpec {
  std::string type;
  std::string name;
};

// Splits "type:name". Errc::parse when there is no colon or the type is empty;
// the type is not checked here.
Result<TableSpec> parse_spec(std::string_view spec);

// The types this build knows, sorted ("btree, hash, ..." minus hash/btree
// without Berkeley DB).
const std::vector<std::string>& known_types();

// The file a file-backed type reads: NAME.db for hash/btree, NAME.lmdb for
// lmdb, NAME itself for texthash and regexp, "" for inline and static.
std::string table_file(const TableSpec& spec);

// Opens a table. Errors: Errc::parse (malformed spec, inline/static syntax,
// a bad regexp line: "FILE, line N: ..."), Errc::invalid (unknown type, naming
// the known ones), Errc::unsupported (hash/btree in a build without Berkeley
// DB, naming lmdb: as the alternative), Errc::not_found (missing file),
// Errc::corrupt (a file that is not a table of that type), Errc::io.
// The caller owns the table; it holds its file open until destroyed.
Result<std::unique_ptr<Table>> open_table(std::string_view spec, const OpenOptions& opts = {});

}  // namespace posthorn::maps

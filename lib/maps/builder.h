// lib/maps/builder.h - writing indexed tables (hash:, btree:, lmdb:) whole.
//
// A table is written into a temporary file beside its final name and renamed
// over it only when complete and flushed to disk (file fsync, rename,
// directory fsync), so a reader sees either the old table or the new one,
// never half of one, and a crash leaves the old table in place.
//
// Keys and values are stored with a trailing NUL byte, as Postfix's postmap
// does by default, so Postfix's programs read our tables as well.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/maps/table.h"

namespace posthorn::maps {

class TableBuilder {
 public:
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;
  // No temporary file outlives the builder, committed or not.
  virtual ~TableBuilder() = default;

  // Adds key -> value as given (the caller folds keys). Result: true when
  // added, false when the key is already there (the first value stays, as with
  // postmap; the caller warns). Errc::invalid for a key or value with a NUL.
  virtual Result<bool> add(std::string_view key, std::string_view value) = 0;

  // A hint that about n entries will be added; saves regrowth on big builds.
  virtual void reserve(std::size_t n) { (void)n; }

  // Flushes the table, renames it over its final name and fsyncs the
  // directory. The builder is spent afterwards.
  virtual Result<void> commit() = 0;

  // The final file name (NAME.db, NAME.lmdb).
  const std::string& path() const { return path_; }

 protected:
  explicit TableBuilder(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

struct BuildOptions {
  // Permission bits of the new file. When the final file already exists its
  // mode and owner are kept instead (a rebuild must not widen access).
  unsigned mode = 0644;
};

// Starts writing the table `spec` ("hash:/etc/posthorn/transport").
// Errors: Errc::invalid (a type that cannot be built: texthash, inline,
// static, regexp, unknown), Errc::unsupported (hash/btree without Berkeley DB,
// naming lmdb:), Errc::io (the temporary file cannot be created).
Result<std::unique_ptr<TableBuilder>> create_table(std::string_view spec,
                                                   const BuildOptions& opts = {});

// Removes `key` (folded unless case_sensitive) from an indexed table by
// writing a copy without it and renaming the copy into place (readers never
// see a half-edited table). Result: true when the key was there and is gone,
// false when it was not there (the file is then left untouched).
Result<bool> delete_key(std::string_view spec, std::string_view key,
                        const OpenOptions& opts = {});

}  // namespace posthorn::maps

namespace posthorn::maps {

enum class SourceFormat { map, aliases };

struct BuildReport {
  std::string output;                 // the file written ("" for texthash: nothing is)
  std::size_t entries = 0;            // entries stored, the sentinel not counted
  std::vector<Diagnostic> warnings;   // "FILE, line N: ..." as postmap/postalias warn
};

// Builds the table `spec` ("hash:/etc/posthorn/virtual") from its source text
// file (the name without suffix), as postmap (SourceFormat::map) or
// postalias (SourceFormat::aliases) do. Aliases tables also get the "@" -> "@"
// entry postalias adds, which tells sendmail-compatible readers that the
// table is complete. For texthash: the source is only checked (texthash reads
// it at open). Errors: those of create_table() and read_file() (the source).
Result<BuildReport> build_from_source(std::string_view spec, SourceFormat format,
                                      const OpenOptions& opts = {});

}  // namespace posthorn::maps

// lib/maps/bdb_table.cc - hash: and btree: tables, Berkeley DB 5.3 files
// NAME.db as Postfix's postmap makes them (DB_HASH or DB_BTREE, no
// environment). The Makefile leaves this file out under WITHOUT_BDB.
//
// Reads go through read(2), never a memory map (DB_NOMMAP): a truncated file
// then gives a short read and an error instead of SIGBUS.
// Each lookup holds a shared flock on the file, the reader side of Postfix's
// locking, and refuses a file rewritten in place since open (LookupLock).
#include <db.h>
#include <sys/stat.h>

#include <cstring>
#include <optional>

#include "lib/base/fd.h"
#include "lib/base/strings.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps::detail {

namespace {

void close_db(DB* db) { db->close(db, 0); }
void close_cursor(DBC* c) { c->close(c); }
using DbPtr = Owned<DB, close_db>;
using CursorPtr = Owned<DBC, close_cursor>;

// Berkeley DB writes its messages to stderr unless told otherwise; ours go
// into the Error instead.
void quiet(const DB_ENV*, const char*, const char*) {}

Error db_error(std::string_view what, const std::string& path, int rc) {
  Errc code = rc == ENOENT ? Errc::not_found
              : rc == EACCES ? Errc::permission
              : (rc == EINVAL || rc == DB_OLD_VERSION || rc == DB_PAGE_NOTFOUND ||
                 rc == DB_VERIFY_BAD || rc == DB_RUNRECOVERY)
                  ? Errc::corrupt
                  : Errc::io;
  return make_error(code, cat(what, " ", path, ": ", db_strerror(rc)));
}

Result<DbPtr> open_db(const std::string& path, bool btree, u_int32_t flags, int mode) {
  DB* raw = nullptr;
  if (int rc = db_create(&raw, nullptr, 0); rc != 0) return db_error("open", path, rc);
  DbPtr db(raw);
  raw->set_errcall(raw, quiet);
  // Building gets a 16 MiB cache, as Postfix's berkeley_db_create_buffer_size:
  // with the library's 256 KiB default a large build spends its time paging.
  if ((flags & DB_CREATE) != 0) {
    if (int rc = raw->set_cachesize(raw, 0, 16u << 20, 0); rc != 0)
      return db_error("open", path, rc);
  }
  int rc = raw->open(raw, nullptr, path.c_str(), nullptr, btree ? DB_BTREE : DB_HASH, flags, mode);
  if (rc != 0) return db_error("open", path, rc);
  return db;
}

DBT dbt(const void* data, std::size_t size) {
  DBT d;
  std::memset(&d, 0, sizeof d);
  d.data = const_cast<void*>(data);
  d.size = static_cast<u_int32_t>(size);
  return d;
}

std::string_view view(const DBT& d) { return {static_cast<const char*>(d.data), d.size}; }

class BdbTable final : public Table {
 public:
  BdbTable(std::string spec, std::string path, DbPtr db, bool fold, int fd)
      : Table(std::move(spec)), path_(std::move(path)), db_(std::move(db)), lock_(fd, path_) {
    fold_ = fold;
    watch_file(path_);
  }

  Result<std::optional<std::string>> lookup(std::string_view key) const override {
    auto k = prepare_key(key);
    if (!k) return std::move(k).error();
    if (damaged_) return *damaged_;
    auto guard = lock_.acquire();
    if (!guard) return std::move(guard).error();
    // Postfix's default stores the key with its NUL; older tables without.
    for (std::size_t len : {k->size() + 1, k->size()}) {
      DBT dk = dbt(k->c_str(), len);
      DBT dv = dbt(nullptr, 0);
      int rc = db_->get(db_.get(), nullptr, &dk, &dv, 0);
      if (rc == 0) return std::optional<std::string>(std::string(strip_nul(view(dv))));
      if (rc != DB_NOTFOUND) return remember(db_error("lookup in", path_, rc));
    }
    return std::optional<std::string>();
  }

  Result<void> for_each(const EntryFn& fn) const override {
    if (damaged_) return *damaged_;
    auto guard = lock_.acquire();
    if (!guard) return std::move(guard).error();
    DBC* raw = nullptr;
    if (int rc = db_->cursor(db_.get(), nullptr, &raw, 0); rc != 0)
      return db_error("read", path_, rc);
    CursorPtr cursor(raw);
    DBT k = dbt(nullptr, 0), v = dbt(nullptr, 0);
    int rc;
    while ((rc = raw->get(raw, &k, &v, DB_NEXT)) == 0) fn(strip_nul(view(k)), strip_nul(view(v)));
    if (rc != DB_NOTFOUND) return remember(db_error("read", path_, rc));
    return {};
  }

 private:
  // Berkeley DB leaks some memory each time it meets a damaged page, so once
  // it has, this table answers with that error until it is reopened, instead
  // of leaking on every lookup of a long-running program.
  Error remember(Error e) const {
    if (e.code == Errc::corrupt) damaged_ = e;
    return e;
  }

  std::string path_;
  DbPtr db_;
  LookupLock lock_;
  mutable std::optional<Error> damaged_;
};

class BdbBuilder final : public BufferedBuilder {
 public:
  BdbBuilder(std::string path, unsigned mode, bool btree)
      : BufferedBuilder(std::move(path), mode), btree_(btree) {}

 protected:
  Result<void> write_table(const std::string& temp, const EntryList& entries) override {
    // The temporary exists and is empty: Berkeley DB takes a zero-length
    // file as a new database.
    auto db = open_db(temp, btree_, DB_CREATE, 0600);
    if (!db) return std::move(db).error();
    DB* raw = db->get();
    for (const auto& [k, v] : entries) {
      // c_str() supplies the trailing NUL Postfix stores.
      DBT dk = dbt(k.c_str(), k.size() + 1), dv = dbt(v.c_str(), v.size() + 1);
      if (int rc = raw->put(raw, nullptr, &dk, &dv, DB_NOOVERWRITE); rc != 0)
        return db_error("write", temp, rc);
    }
    if (int rc = raw->sync(raw, 0); rc != 0) return db_error("sync", temp, rc);
    int rc = raw->close(db->release(), 0);
    if (rc != 0) return db_error("close", temp, rc);
    return {};
  }

 private:
  bool btree_;
};

}  // namespace

Result<std::unique_ptr<Table>> open_bdb(std::string spec, const std::string& path, bool btree,
                                        const OpenOptions& opts) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return sys_error(cat("open ", path));
  if (!S_ISREG(st.st_mode)) return make_error(Errc::corrupt, cat(path, ": not a regular file"));
  // An empty file would be taken as a new, empty database; it is a damaged one.
  if (st.st_size == 0) return make_error(Errc::corrupt, cat(path, ": empty file"));
  auto db = open_db(path, btree, DB_RDONLY | DB_NOMMAP, 0644);
  if (!db) return std::move(db).error();
  int fd = -1;
  if (int rc = (*db)->fd(db->get(), &fd); rc != 0) return db_error("open", path, rc);
  return std::unique_ptr<Table>(std::make_unique<BdbTable>(std::move(spec), path, std::move(*db),
                                                           !opts.case_sensitive, fd));
}

Result<std::unique_ptr<TableBuilder>> create_bdb(const std::string& path, bool btree,
                                                 const BuildOptions& opts) {
  return std::unique_ptr<TableBuilder>(std::make_unique<BdbBuilder>(path, opts.mode, btree));
}

}  // namespace posthorn::maps::detail

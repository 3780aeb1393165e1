// lib/maps/lmdb_table.cc - lmdb: tables, one file NAME.lmdb (MDB_NOSUBDIR), as
// Postfix's postmap makes them.
//
// Readers open the file read-only without LMDB's lock file (MDB_NOLOCK):
// our builders never change a published file, they rename a new one over it,
// so a reader's map of the old file stays consistent until it reopens.
// Postfix's own postmap rewrites a table in place under an exclusive flock:
// each lookup holds a shared flock and checks the file is unchanged first
// (LookupLock), so such a rewrite is waited for and then reported.
//
// LMDB trusts its file: a page number past the end of the file would be read
// through the memory map and kill the process with SIGBUS. open checks that
// the last page the meta page names lies inside the file, which catches
// truncated and foreign files.
#include <lmdb.h>
#include <sys/stat.h>

#include "lib/base/fd.h"
#include "lib/base/strings.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps::detail {

namespace {

using EnvPtr = Owned<MDB_env, mdb_env_close>;
using TxnPtr = Owned<MDB_txn, mdb_txn_abort>;

Error lmdb_error(std::string_view what, const std::string& path, int rc) {
  Errc code = rc == ENOENT ? Errc::not_found
              : rc == EACCES ? Errc::permission
              : (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
                 rc == MDB_VERSION_MISMATCH)
                  ? Errc::corrupt
                  : Errc::io;
  return make_error(code, cat(what, " ", path, ": ", mdb_strerror(rc)));
}

// The meta page's idea of the file's length must fit the file (see above).
Result<void> check_length(MDB_env* env, const std::string& path) {
  MDB_envinfo info;
  MDB_stat st;
  int fd = -1;
  struct stat fs;
  if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &st) != 0 ||
      mdb_env_get_fd(env, &fd) != 0 || ::fstat(fd, &fs) != 0)
    return make_error(Errc::corrupt, cat(path, ": cannot read the LMDB meta data"));
  unsigned long long need = (static_cast<unsigned long long>(info.me_last_pgno) + 1) * st.ms_psize;
  if (need > static_cast<unsigned long long>(fs.st_size))
    return make_error(Errc::corrupt, cat(path, ": truncated LMDB file (", fs.st_size,
                                         " bytes, pages up to byte ", need, ")"));
  return {};
}

class LmdbTable final : public Table {
 public:
  LmdbTable(std::string spec, std::string path, EnvPtr env, MDB_dbi dbi, bool fold, int fd)
      : Table(std::move(spec)), path_(std::move(path)), env_(std::move(env)), dbi_(dbi),
        lock_(fd, path_) {
    fold_ = fold;
    watch_file(path_);
  }

  Result<std::optional<std::string>> lookup(std::string_view key) const override {
    auto k = prepare_key(key);
    if (!k) return std::move(k).error();
    auto guard = lock_.acquire();
    if (!guard) return std::move(guard).error();
    auto txn = begin();
    if (!txn) return std::move(txn).error();
    // Postfix's default stores the key with its NUL; older tables without.
    for (std::size_t len : {k->size() + 1, k->size()}) {
      MDB_val mk{len, k->data()};
      MDB_val mv;
      int rc = mdb_get(txn->get(), dbi_, &mk, &mv);
      if (rc == 0)
        return std::optional<std::string>(
            std::string(strip_nul({static_cast<const char*>(mv.mv_data), mv.mv_size})));
      // An empty or over-long key cannot be stored, so it is simply absent.
      if (rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE) return lmdb_error("lookup in", path_, rc);
    }
    return std::optional<std::string>();
  }

  Result<void> for_each(const EntryFn& fn) const override {
    auto guard = lock_.acquire();
    if (!guard) return std::move(guard).error();
    auto txn = begin();
    if (!txn) return std::move(txn).error();
    MDB_cursor* raw = nullptr;
    if (int rc = mdb_cursor_open(txn->get(), dbi_, &raw); rc != 0)
      return lmdb_error("read", path_, rc);
    Owned<MDB_cursor, mdb_cursor_close> cursor(raw);
    MDB_val k, v;
    int rc;
    while ((rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) == 0)
      fn(strip_nul({static_cast<const char*>(k.mv_data), k.mv_size}),
         strip_nul({static_cast<const char*>(v.mv_data), v.mv_size}));
    if (rc != MDB_NOTFOUND) return lmdb_error("read", path_, rc);
    return {};
  }

 private:
  // The returned transaction must end before the guard does.
  Result<TxnPtr> begin() const {
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &txn); rc != 0)
      return lmdb_error("read", path_, rc);
    return TxnPtr(txn);
  }

  std::string path_;
  EnvPtr env_;
  MDB_dbi dbi_;
  LookupLock lock_;
};

Result<EnvPtr> make_env(const std::string& path) {
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != 0) return lmdb_error("open", path, rc);
  return EnvPtr(raw);
}

class LmdbBuilder final : public BufferedBuilder {
 public:
  using BufferedBuilder::BufferedBuilder;

 protected:
  Result<void> write_table(const std::string& temp, const EntryList& entries) override {
    auto env = make_env(temp);
    if (!env) return std::move(env).error();
    // The map must hold the whole table; start with Postfix's 16 MB default
    // and double on MDB_MAP_FULL (the write restarts from the first entry).
    std::size_t map_size = 16u << 20;
    if (int rc = mdb_env_set_mapsize(env->get(), map_size); rc != 0)
      return lmdb_error("create", temp, rc);
    if (int rc = mdb_env_open(env->get(), temp.c_str(), MDB_NOSUBDIR | MDB_NOLOCK, 0600); rc != 0)
      return lmdb_error("create", temp, rc);
    for (;;) {
      int rc = write_once(env->get(), entries);
      if (rc == 0) break;
      if (rc != MDB_MAP_FULL || map_size >= (std::size_t{1} << 40))
        return lmdb_error("write", temp, rc);
      map_size *= 2;
      if ((rc = mdb_env_set_mapsize(env->get(), map_size)) != 0)
        return lmdb_error("write", temp, rc);
    }
    if (int rc = mdb_env_sync(env->get(), 1); rc != 0) return lmdb_error("sync", temp, rc);
    return {};
  }

 private:
  static int write_once(MDB_env* env, const EntryList& entries) {
    MDB_txn* raw = nullptr;
    if (int rc = mdb_txn_begin(env, nullptr, 0, &raw); rc != 0) return rc;
    TxnPtr txn(raw);
    MDB_dbi dbi;
    if (int rc = mdb_dbi_open(raw, nullptr, 0, &dbi); rc != 0) return rc;
    for (const auto& [k, v] : entries) {
      // c_str() supplies the trailing NUL Postfix stores.
      MDB_val mk{k.size() + 1, const_cast<char*>(k.c_str())};
      MDB_val mv{v.size() + 1, const_cast<char*>(v.c_str())};
      if (int rc = mdb_put(raw, dbi, &mk, &mv, MDB_NOOVERWRITE); rc != 0) return rc;
    }
    return mdb_txn_commit(txn.release());
  }
};

}  // namespace

Result<std::unique_ptr<Table>> open_lmdb(std::string spec, const std::string& path,
                                         const OpenOptions& opts) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return sys_error(cat("open ", path));
  if (!S_ISREG(st.st_mode)) return make_error(Errc::corrupt, cat(path, ": not a regular file"));
  auto env = make_env(path);
  if (!env) return std::move(env).error();
  int rc = mdb_env_open(env->get(), path.c_str(), MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0644);
  // The file is there (stat above): LMDB's ENOENT means it found no meta page.
  if (rc != 0) return lmdb_error("open", path, rc == ENOENT ? MDB_INVALID : rc);
  if (auto ok = check_length(env->get(), path); !ok) return std::move(ok).error();
  MDB_txn* raw = nullptr;
  if ((rc = mdb_txn_begin(env->get(), nullptr, MDB_RDONLY, &raw)) != 0)
    return lmdb_error("open", path, rc);
  TxnPtr txn(raw);
  MDB_dbi dbi;
  if ((rc = mdb_dbi_open(raw, nullptr, 0, &dbi)) != 0) return lmdb_error("open", path, rc);
  // Committing (not aborting) keeps the handle open for the env's life.
  if ((rc = mdb_txn_commit(txn.release())) != 0) return lmdb_error("open", path, rc);
  int fd = -1;
  if ((rc = mdb_env_get_fd(env->get(), &fd)) != 0) return lmdb_error("open", path, rc);
  return std::unique_ptr<Table>(std::make_unique<LmdbTable>(
      std::move(spec), path, std::move(*env), dbi, !opts.case_sensitive, fd));
}

Result<std::unique_ptr<TableBuilder>> create_lmdb(const std::string& path,
                                                  const BuildOptions& opts) {
  return std::unique_ptr<TableBuilder>(std::make_unique<LmdbBuilder>(path, opts.mode));
}

}  // namespace posthorn::maps::detail

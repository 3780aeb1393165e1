// lib/maps/table.cc - the Table base class and the open_table() factory.
#include "lib/maps/table.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps {

namespace {

long long mtime_ns(const struct stat& st) {
  return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

}  // namespace

namespace detail {

Error unknown_type(std::string_view type) {
  return make_error(Errc::invalid, cat("unknown table type \"", printable(type),
                                       "\"; known types: ", join(known_types(), ", ")));
}

Error no_bdb(std::string_view type) {
  return make_error(Errc::unsupported,
                    cat("table type \"", type, ":\" is not available: this build has no ",
                        "Berkeley DB; use lmdb: instead"));
}

LookupLock::LookupLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
  struct stat st;
  if (::fstat(fd_, &st) == 0) {
    size_ = st.st_size;
    mtime_ns_ = mtime_ns(st);
  }
}

LookupLock::Guard::~Guard() {
  if (fd_ >= 0) ::flock(fd_, LOCK_UN);
}

Result<LookupLock::Guard> LookupLock::acquire() const {
  while (::flock(fd_, LOCK_SH) != 0)
    if (errno != EINTR) return sys_error(cat("lock ", path_));
  Guard guard(fd_);
  struct stat st;
  if (::fstat(fd_, &st) != 0) return sys_error(cat("fstat ", path_));
  if (st.st_size != size_ || mtime_ns(st) != mtime_ns_)
    return make_error(Errc::busy, cat(path_, ": table was rewritten in place; reopen it"));
  return guard;
}

}  // namespace detail

std::string Diagnostic::str() const { return cat(file, ", line ", line, ": ", text); }

Result<void> Table::for_each(const EntryFn&) const {
  return make_error(Errc::unsupported, cat(spec_, ": table cannot list its entries"));
}

Result<std::string> Table::prepare_key(std::string_view key) const {
  if (key.find('\0') != std::string_view::npos)
    return make_error(Errc::invalid, cat(spec_, ": lookup key contains a NUL byte"));
  return fold_ ? to_lower(key) : std::string(key);
}

void Table::watch_file(const std::string& path) {
  struct stat st;
  watched_path_ = path;
  if (::stat(path.c_str(), &st) != 0) return;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  mtime_ns_ = mtime_ns(st);
  size_ = st.st_size;
}

bool Table::changed() const {
  if (watched_path_.empty()) return false;
  struct stat st;
  if (::stat(watched_path_.c_str(), &st) != 0) return true;
  return st.st_dev != dev_ || st.st_ino != ino_ || mtime_ns(st) != mtime_ns_ ||
         st.st_size != size_;
}

Result<TableSpec> parse_spec(std::string_view spec) {
  std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return make_error(Errc::parse, cat("table \"", printable(spec),
                                       "\": expected type:name, as hash:/etc/posthorn/access"));
  return TableSpec{std::string(spec.substr(0, colon)), std::string(spec.substr(colon + 1))};
}

const std::vector<std::string>& known_types() {
  static const std::vector<std::string> types = {
#ifndef POSTHORN_WITHOUT_BDB
      "btree", "hash",
#endif
      "inline", "lmdb", "regexp", "static", "texthash", "unix"};
  return types;
}

std::string table_file(const TableSpec& spec) {
  if (spec.type == "hash" || spec.type == "btree") return spec.name + ".db";
  if (spec.type == "lmdb") return spec.name + ".lmdb";
  if (spec.type == "texthash" || spec.type == "regexp") return spec.name;
  return {};
}

Result<std::unique_ptr<Table>> open_table(std::string_view spec_text, const OpenOptions& opts) {
  auto spec = parse_spec(spec_text);
  if (!spec) return std::move(spec).error();
  const std::string& type = spec->type;
  std::string whole(spec_text);
  if (type == "inline") return detail::open_inline(whole, spec->name, opts);
  if (type == "static") return detail::open_static(whole, spec->name);
  if (type == "unix") return detail::open_unix(whole, spec->name, opts);
  if (std::find(known_types().begin(), known_types().end(), type) == known_types().end()) {
#ifdef POSTHORN_WITHOUT_BDB
    if (type == "hash" || type == "btree") return detail::no_bdb(type);
#endif
    return detail::unknown_type(type);
  }
  if (spec->name.empty())
    return make_error(Errc::parse, cat("table \"", printable(spec_text), "\": empty file name"));
  std::string file = table_file(*spec);
  if (type == "texthash") return detail::open_texthash(whole, file, opts);
  if (type == "regexp") return detail::open_regexp(whole, file);
  if (type == "lmdb") return detail::open_lmdb(whole, file, opts);
#ifndef POSTHORN_WITHOUT_BDB
  return detail::open_bdb(whole, file, type == "btree", opts);
#else
  return detail::unknown_type(type);
#endif
}

}  // namespace posthorn::maps

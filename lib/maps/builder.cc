// lib/maps/builder.cc - create_table(), delete_key(), build_from_source() and
// the publishing steps every indexed table shares.
#include "lib/maps/builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/maps/source.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps {

namespace detail {

Result<std::string> make_temp_beside(const std::string& final_path) {
  std::string tmpl = final_path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error(cat("create a temporary file beside ", final_path));
  Fd owned(fd);
  return tmpl;
}

Result<void> publish_file(const std::string& temp_path, const std::string& final_path,
                          unsigned mode) {
  auto fd = open_file(temp_path, O_RDWR);
  if (!fd) return std::move(fd).error();
  struct stat old;
  bool had_old = ::stat(final_path.c_str(), &old) == 0;
  // A rebuild keeps the old table's access rights: a table made private
  // (say, with passwords for relay hosts) must not become readable.
  if (::fchmod(fd->get(), had_old ? (old.st_mode & 07777) : mode) != 0)
    return sys_error(cat("fchmod ", temp_path));
  if (had_old && ::geteuid() == 0 && ::fchown(fd->get(), old.st_uid, old.st_gid) != 0)
    return sys_error(cat("fchown ", temp_path));
  if (::fsync(fd->get()) != 0) return sys_error(cat("fsync ", temp_path));
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0)
    return sys_error(cat("rename ", temp_path, " to ", final_path));
  std::filesystem::path dir = std::filesystem::path(final_path).parent_path();
  return fsync_dir(dir.empty() ? "." : dir);
}

Result<bool> BufferedBuilder::add(std::string_view key, std::string_view value) {
  if (spent_) return make_error(Errc::invalid, cat(path(), ": builder already committed"));
  if (key.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos)
    return make_error(Errc::invalid, cat(path(), ": key or value contains a NUL byte"));
  if (!keys_.emplace(key).second) return false;
  entries_.emplace_back(key, value);
  return true;
}

Result<void> BufferedBuilder::commit() {
  if (spent_) return make_error(Errc::invalid, cat(path(), ": builder already committed"));
  spent_ = true;
  auto temp = make_temp_beside(path());
  if (!temp) return std::move(temp).error();
  // Whatever fails below, the temporary goes. After the rename the name is
  // free again and another builder may own it: then it must not be removed.
  struct Remove {
    std::string p;
    bool armed = true;
    ~Remove() {
      if (armed) ::unlink(p.c_str());
    }
  } remove{*temp};
  if (auto ok = write_table(*temp, entries_); !ok) return ok;
  auto published = publish_file(*temp, path(), mode_);
  if (published) remove.armed = false;
  return published;
}

}  // namespace detail

namespace {

bool is_indexed(std::string_view type) {
  return type == "hash" || type == "btree" || type == "lmdb";
}

}  // namespace

Result<std::unique_ptr<TableBuilder>> create_table(std::string_view spec_text,
                                                   const BuildOptions& opts) {
  auto spec = parse_spec(spec_text);
  if (!spec) return std::move(spec).error();
  const auto& known = known_types();
  bool known_type = std::find(known.begin(), known.end(), spec->type) != known.end();
  if (!is_indexed(spec->type) || !known_type) {
#ifdef POSTHORN_WITHOUT_BDB
    if (spec->type == "hash" || spec->type == "btree") return detail::no_bdb(spec->type);
#endif
    if (!known_type) return detail::unknown_type(spec->type);
    return make_error(Errc::invalid, cat("table type \"", spec->type,
                                         ":\" is not built: it is read as it is"));
  }
  if (spec->name.empty())
    return make_error(Errc::parse, cat("table \"", printable(spec_text), "\": empty file name"));
  std::string file = table_file(*spec);
  if (spec->type == "lmdb") return detail::create_lmdb(file, opts);
#ifndef POSTHORN_WITHOUT_BDB
  return detail::create_bdb(file, spec->type == "btree", opts);
#else
  return detail::no_bdb(spec->type);
#endif
}

Result<bool> delete_key(std::string_view spec_text, std::string_view key,
                        const OpenOptions& opts) {
  auto spec = parse_spec(spec_text);
  if (!spec) return std::move(spec).error();
  if (!is_indexed(spec->type))
    return make_error(Errc::invalid, cat("cannot delete from a ", spec->type, ": table"));
  auto table = open_table(spec_text, opts);
  if (!table) return std::move(table).error();
  std::string wanted = opts.case_sensitive ? std::string(key) : to_lower(key);
  detail::EntryList kept;
  bool found = false;
  auto listed = (*table)->for_each([&](std::string_view k, std::string_view v) {
    if (k == wanted) {
      found = true;
    } else {
      kept.emplace_back(k, v);
    }
  });
  if (!listed) return std::move(listed).error();
  if (!found) return false;
  auto builder = create_table(spec_text);
  if (!builder) return std::move(builder).error();
  for (const auto& [k, v] : kept)
    if (auto ok = (*builder)->add(k, v); !ok) return std::move(ok).error();
  if (auto ok = (*builder)->commit(); !ok) return std::move(ok).error();
  return true;
}

Result<BuildReport> build_from_source(std::string_view spec_text, SourceFormat format,
                                      const OpenOptions& opts) {
  auto spec = parse_spec(spec_text);
  if (!spec) return std::move(spec).error();
  std::unique_ptr<TableBuilder> builder;
  if (spec->type != "texthash") {
    auto b = create_table(spec_text);
    if (!b) return std::move(b).error();
    builder = std::move(*b);
  }
  auto text = read_file(spec->name);
  if (!text) return std::move(text).error();
  bool fold = !opts.case_sensitive;
  ParsedSource src = format == SourceFormat::aliases
                         ? parse_aliases_source(*text, spec->name, fold)
                         : parse_map_source(*text, spec->name, fold);
  BuildReport report{builder ? builder->path() : std::string(), src.entries.size(),
                     std::move(src.warnings)};
  if (!builder) return report;
  builder->reserve(src.entries.size() + 1);
  for (const SourceEntry& e : src.entries)
    if (auto ok = builder->add(e.key, e.value); !ok) return std::move(ok).error();
  if (format == SourceFormat::aliases) {
    // postalias's sentinel: sendmail-compatible readers take "@" as "the
    // table is complete". No alias name can be "@" (names must be local).
    if (auto ok = builder->add("@", "@"); !ok) return std::move(ok).error();
  }
  if (auto ok = builder->commit(); !ok) return std::move(ok).error();
  return report;
}

}  // namespace posthorn::maps

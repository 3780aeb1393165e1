// lib/mailstore/folder_ops.cc - reading and changing messages of a folder.
//
// Every change holds the folder lock. Paths in the snapshot may be stale
// (another program renamed a file to change its flags, or moved it from new/
// to cur/): an operation that meets ENOENT rescans and retries once on the
// file's current name; a message still missing then has been expunged.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <limits>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/mailstore/folder.h"
#include "lib/mailstore/names.h"
#include "lib/mailstore/new_message.h"

namespace posthorn::mailstore {
namespace {

std::vector<std::uint32_t> sorted_unique(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

unsigned apply(FlagOp op, unsigned old, unsigned change) {
  switch (op) {
    case FlagOp::add: return old | change;
    case FlagOp::remove: return old & ~change;
    case FlagOp::replace: return change;
  }
  return old;
}

}  // namespace

Result<Fd> Folder::open_message(std::uint32_t uid) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Message* m = snap_.find(uid);
    if (!m) break;
    auto fd = open_file(m->path, O_RDONLY);
    if (fd || fd.error().code != Errc::not_found) return fd;
    if (auto s = sync(SyncMode::keep_new); !s) return std::move(s).error();
  }
  return make_error(Errc::not_found, cat("mailbox ", name_, ": no message with UID ", uid));
}

Result<std::string> Folder::read_message(std::uint32_t uid, std::size_t max_bytes) {
  auto fd = open_message(uid);
  if (!fd) return std::move(fd).error();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(cat("fstat message ", uid));
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return make_error(Errc::too_large, cat("message ", uid, " is larger than ", max_bytes));
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd->get(), out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read message ", uid));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

// Letter bits for keyword names; with add=true unknown names are added to the
// table (and the table saved before any file carries the new letter).
Result<std::uint32_t> Folder::keyword_bits(const std::vector<std::string>& names, bool add) {
  std::uint32_t bits = 0;
  bool changed = false;
  for (const auto& n : names) {
    int i = snap_.keywords.find(n);
    if (i < 0 && add) {
      auto r = snap_.keywords.intern(n);
      if (!r) return std::move(r).error();
      i = *r;
      changed = true;
    }
    if (i >= 0) bits |= 1u << i;
  }
  if (changed) {
    if (auto s = save_keywords(); !s) return std::move(s).error();
  }
  return bits;
}

Result<void> Folder::rename_flags(const Message& m, unsigned flags, std::uint32_t kw,
                                  bool& vanished) {
  std::string to = cur_file_name(m.base, flags, kw, m.other_flags);
  std::string target = cat((dir_ / "cur").native(), "/", to);
  if (target == m.path) return {};
  if (::rename(m.path.c_str(), target.c_str()) != 0) {
    if (errno == ENOENT) {
      vanished = true;
      return {};
    }
    return sys_error(cat("rename ", m.path));
  }
  Message* mm = find_mut(m.uid);
  mm->path = std::move(target);
  mm->flags = flags;
  mm->keyword_bits = kw;
  mm->keywords = snap_.keywords.names_of(kw);
  mm->in_new = false;
  return {};
}

Result<void> Folder::store(const std::vector<std::uint32_t>& uids, FlagOp op, const FlagSet& set) {
  auto l = lock();
  if (!l) return std::move(l).error();
  // Re-read the keyword table: another session may have added names.
  if (auto s = scan_locked(SyncMode::keep_new); !s) return s;
  auto kw = keyword_bits(set.keywords, op != FlagOp::remove);
  if (!kw) return std::move(kw).error();
  unsigned change = set.flags & kAllFlags;
  std::vector<std::uint32_t> remaining = sorted_unique(uids);
  for (int attempt = 0; attempt < 3 && !remaining.empty(); ++attempt) {
    std::vector<std::uint32_t> again;
    for (std::uint32_t uid : remaining) {
      const Message* m = snap_.find(uid);
      if (!m) continue;  // expunged
      bool vanished = false;
      auto r = rename_flags(*m, apply(op, m->flags, change), apply(op, m->keyword_bits, *kw),
                            vanished);
      if (!r) return r;
      if (vanished) again.push_back(uid);
    }
    if (!again.empty()) {
      if (auto s = scan_locked(SyncMode::keep_new); !s) return s;
    }
    remaining = std::move(again);
  }
  return {};
}

Result<std::vector<std::uint32_t>> Folder::commit(std::vector<Pending>& pending) {
  auto l = lock();
  if (!l) return std::move(l).error();
  if (auto s = scan_locked(SyncMode::keep_new); !s) return std::move(s).error();
  if (std::uint64_t{snap_.uidnext} + pending.size() > std::numeric_limits<std::uint32_t>::max())
    return make_error(Errc::too_large, cat("mailbox ", name_, ": out of UIDs"));
  Uidlist list = list_from_snapshot();
  std::vector<std::uint32_t> uids;
  for (auto& p : pending) {
    auto kw = keyword_bits(p.set.keywords, true);
    if (!kw) return std::move(kw).error();
    std::string name = cur_file_name(p.base, p.set.flags & kAllFlags, *kw);
    if (auto r = publish(p.tmp, dir_ / "cur" / name); !r) return std::move(r).error();
    p.tmp.clear();  // published: the caller must not remove it
    std::uint32_t uid = list.uidnext++;
    list.entries.push_back(
        UidEntry{uid, p.internal_date, p.size, p.vsize, p.base, name.substr(p.base.size()), false});
    Message m;
    m.uid = uid;
    m.flags = p.set.flags & kAllFlags;
    m.keyword_bits = *kw;
    m.keywords = snap_.keywords.names_of(*kw);
    m.size = p.size;
    m.vsize = p.vsize;
    m.internal_date = p.internal_date;
    m.base = p.base;
    m.path = cat((dir_ / "cur").native(), "/", name);
    snap_.messages.push_back(std::move(m));
    uids.push_back(uid);
  }
  // Files first, list second: after a crash between the two the files are
  // simply unlisted and get UIDs at the next sync.
  if (auto s = fsync_dir(dir_ / "cur"); !s) return std::move(s).error();
  if (auto s = save_list(list); !s) return std::move(s).error();
  snap_.uidnext = list.uidnext;
  return uids;
}

Result<AppendResult> Folder::append(std::string_view data, const FlagSet& set,
                                    std::optional<std::int64_t> internal_date) {
  auto nm = NewMessage::create(dir_);
  if (!nm) return std::move(nm).error();
  std::int64_t date = internal_date.value_or(static_cast<std::int64_t>(std::time(nullptr)));
  if (auto r = nm->write(data); !r) return std::move(r).error();
  if (auto r = nm->set_internal_date(date); !r) return std::move(r).error();
  if (auto r = nm->finish(); !r) return std::move(r).error();
  std::vector<Pending> p{Pending{nm->tmp_path(), nm->base(), set, date, nm->size(), nm->vsize()}};
  auto uids = commit(p);
  if (p[0].tmp.empty()) nm->release_tmp();
  if (!uids) return std::move(uids).error();
  return AppendResult{snap_.uidvalidity, uids->front()};
}

// Puts a copy of `m` into dest's tmp/: a hard link (same inode, same mtime),
// or a byte copy with the internal date set where links are not possible.
Result<std::optional<Folder::Pending>> Folder::prepare_copy(const Message& msg, Folder& dest) {
  const Message m = msg;  // read_message() may rescan and invalidate `msg`
  std::string base = cat(unique_base(), ",S=", m.size, ",W=", m.vsize);
  std::filesystem::path tmp = dest.dir_ / "tmp" / base;
  FlagSet set{m.flags, m.keywords};
  if (::link(m.path.c_str(), tmp.c_str()) == 0)
    return std::optional<Pending>(Pending{tmp, base, set, m.internal_date, m.size, m.vsize});
  if (errno == ENOENT) return std::optional<Pending>();
  auto data = read_message(m.uid);
  if (!data) return std::move(data).error();
  auto nm = NewMessage::create(dest.dir_);
  if (!nm) return std::move(nm).error();
  if (auto r = nm->write(*data); !r) return std::move(r).error();
  if (auto r = nm->set_internal_date(m.internal_date); !r) return std::move(r).error();
  if (auto r = nm->finish(); !r) return std::move(r).error();
  Pending p{nm->tmp_path(), nm->base(), set, m.internal_date, nm->size(), nm->vsize()};
  nm->release_tmp();
  return std::optional<Pending>(std::move(p));
}

Result<CopyResult> Folder::copy_to(Folder& dest, const std::vector<std::uint32_t>& uids) {
  std::vector<Pending> pending;
  std::vector<std::uint32_t> sources;
  auto cleanup = [&] {
    for (auto& p : pending)
      if (!p.tmp.empty()) ::unlink(p.tmp.c_str());
  };
  for (std::uint32_t uid : sorted_unique(uids)) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const Message* m = snap_.find(uid);
      if (!m) break;
      auto p = prepare_copy(*m, dest);
      if (!p) {
        cleanup();
        return std::move(p).error();
      }
      if (*p) {
        pending.push_back(std::move(**p));
        sources.push_back(uid);
        break;
      }
      if (auto s = sync(SyncMode::keep_new); !s) {  // renamed meanwhile: find it again
        cleanup();
        return std::move(s).error();
      }
    }
  }
  auto got = dest.commit(pending);
  cleanup();
  if (!got) return std::move(got).error();
  CopyResult out{dest.snap_.uidvalidity, {}};
  for (std::size_t i = 0; i < sources.size(); ++i) out.pairs.push_back({sources[i], (*got)[i]});
  return out;
}

Result<CopyResult> Folder::move_to(Folder& dest, const std::vector<std::uint32_t>& uids) {
  auto copied = copy_to(dest, uids);
  if (!copied) return copied;
  std::vector<std::uint32_t> sources;
  for (const auto& p : copied->pairs) sources.push_back(p.source);
  if (auto r = remove(sources); !r) return std::move(r).error();
  return copied;
}

Result<std::vector<std::uint32_t>> Folder::remove_locked(const std::vector<std::uint32_t>& uids) {
  std::vector<std::uint32_t> gone, remaining = sorted_unique(uids);
  for (int attempt = 0; attempt < 2 && !remaining.empty(); ++attempt) {
    std::vector<std::uint32_t> again;
    for (std::uint32_t uid : remaining) {
      const Message* m = snap_.find(uid);
      if (!m) continue;
      if (::unlink(m->path.c_str()) == 0) gone.push_back(uid);
      else if (errno == ENOENT) again.push_back(uid);
      else return sys_error(cat("unlink ", m->path));
    }
    if (!again.empty()) {
      if (auto s = scan_locked(SyncMode::keep_new); !s) return std::move(s).error();
    }
    remaining = std::move(again);
  }
  std::sort(gone.begin(), gone.end());
  auto& msgs = snap_.messages;
  msgs.erase(std::remove_if(msgs.begin(), msgs.end(),
                            [&](const Message& m) {
                              return std::binary_search(gone.begin(), gone.end(), m.uid);
                            }),
             msgs.end());
  // Files first, list second: a crash between leaves listed files that the
  // next sync forgets.
  for (const char* sub : {"cur", "new"})
    if (auto s = fsync_dir(dir_ / sub); !s) return std::move(s).error();
  if (auto s = save_list(list_from_snapshot()); !s) return std::move(s).error();
  return gone;
}

Result<std::vector<std::uint32_t>> Folder::remove(const std::vector<std::uint32_t>& uids) {
  auto l = lock();
  if (!l) return std::move(l).error();
  if (auto s = scan_locked(SyncMode::keep_new); !s) return std::move(s).error();
  return remove_locked(uids);
}

Result<std::vector<std::uint32_t>> Folder::expunge_deleted(
    const std::optional<std::vector<std::uint32_t>>& within) {
  auto l = lock();
  if (!l) return std::move(l).error();
  if (auto s = scan_locked(SyncMode::keep_new); !s) return std::move(s).error();
  std::vector<std::uint32_t> in = within ? sorted_unique(*within) : std::vector<std::uint32_t>{};
  std::vector<std::uint32_t> targets;
  for (const auto& m : snap_.messages) {
    if (!(m.flags & kTrashed)) continue;
    if (within && !std::binary_search(in.begin(), in.end(), m.uid)) continue;
    targets.push_back(m.uid);
  }
  if (targets.empty()) return targets;
  return remove_locked(targets);
}

}  // namespace posthorn::mailstore

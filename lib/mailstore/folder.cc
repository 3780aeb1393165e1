// lib/mailstore/folder.cc - scanning a folder and keeping its UID list.
//
// sync, under the folder lock:
//   1. read posthorn-uidlist (missing or damaged: new UIDVALIDITY, empty list)
//   2. read new/ (moving each file to cur/ in move_new mode), then cur/; in that
//      order a file moved from new/ to cur/ by someone else meanwhile is seen
//      at least once
//   3. while a listed file was not seen, read both directories again (up to
//      4 walks): readdir() may miss a file that another program renames
//      during the walk
//   4. forget listed files still not seen; give unlisted files the next UIDs
//      in order of arrival, caching their date and sizes
//   5. replace the list atomically if anything changed.
#include "lib/mailstore/folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/mailstore/names.h"
#include "lib/mailstore/new_message.h"

namespace posthorn::mailstore {
namespace {

constexpr const char* kUidlist = "posthorn-uidlist";
constexpr const char* kUidlistLock = "posthorn-uidlist.lock";
constexpr const char* kKeywords = "dovecot-keywords";
constexpr int kMaxWalks = 4;
constexpr std::int64_t kTmpMaxAge = 36 * 3600;  // Maildir: tmp/ files older than 36h are junk

struct DirFile {
  std::string name;
  bool in_new = false;
  bool moved = false;  // moved from new/ to cur/ by this scan
};
using FileMap = std::unordered_map<std::string, DirFile>;  // base -> file

using Dir = Owned<DIR, closedir>;

Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) {
  Dir d(::opendir(dir.c_str()));
  if (!d) return sys_error(cat("opendir ", dir.string()));
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  if (errno != 0) return sys_error(cat("readdir ", dir.string()));
  return out;
}

// Reads cur/ or new/ into `files`; an entry already there wins (cur/ is read
// after new/ and a second pass only fills gaps).
Result<void> read_messages(const std::filesystem::path& folder, bool in_new, bool move_new,
                           FileMap& files) {
  auto names = list_dir(folder / (in_new ? "new" : "cur"));
  if (!names) return std::move(names).error();
  for (auto& n : *names) {
    FileName fn = parse_file_name(n);
    if (!storable_base(fn.base)) {
      log::warn("mailbox ", folder.string(), ": ignoring file with unusable name ", n);  // the logger escapes it
      continue;
    }
    if (in_new && move_new) {
      std::string to = cur_file_name(fn.base, fn.flags, fn.keywords, fn.other_flags);
      // ENOENT: someone else moved it; the walk of cur/ that follows sees it.
      if (::rename((folder / "new" / n).c_str(), (folder / "cur" / to).c_str()) != 0) continue;
      files.try_emplace(fn.base, DirFile{to, false, true});
      continue;
    }
    files.try_emplace(std::move(fn.base), DirFile{std::move(n), in_new, false});
  }
  return {};
}

Result<FileMap> read_folder(const std::filesystem::path& folder, bool move_new, FileMap files = {}) {
  if (auto r = read_messages(folder, true, move_new, files); !r) return std::move(r).error();
  if (auto r = read_messages(folder, false, false, files); !r) return std::move(r).error();
  return files;
}

// Size with CRLF line endings, by reading the file once.
Result<std::uint64_t> compute_vsize(const std::filesystem::path& path) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return std::move(fd).error();
  std::uint64_t total = 0;
  bool cr = false;
  std::string buf(65536, '\0');
  for (;;) {
    ssize_t n = ::read(fd->get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read ", path.string()));
    if (n == 0) return total;
    std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
    total += chunk.size() + crlf_extra(chunk, cr);
  }
}

// The list entry for a file seen for the first time; not_found if it vanished.
Result<UidEntry> describe(const std::filesystem::path& folder, const std::string& base,
                          const DirFile& f) {
  std::filesystem::path p = folder / (f.in_new ? "new" : "cur") / f.name;
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return sys_error(cat("stat ", p.string()));
  FileName fn = parse_file_name(f.name);
  UidEntry e;
  e.base = base;
  e.internal_date = st.st_mtime;
  e.size = fn.has_size ? fn.size : static_cast<std::uint64_t>(st.st_size);
  if (fn.has_vsize) {
    e.vsize = fn.vsize;
  } else {
    auto v = compute_vsize(p);
    if (!v) return std::move(v).error();
    e.vsize = *v;
  }
  return e;
}

// Drops listed entries whose files are gone; true if any was.
bool forget_vanished(Uidlist& list, const FileMap& files) {
  auto gone = [&](const UidEntry& e) { return !files.count(e.base); };
  auto it = std::remove_if(list.entries.begin(), list.entries.end(), gone);
  bool any = it != list.entries.end();
  list.entries.erase(it, list.entries.end());
  return any;
}

// Files not in the list, in order of arrival.
std::vector<const std::string*> unlisted(const Uidlist& list, const FileMap& files) {
  std::unordered_set<std::string_view> listed;
  for (const auto& e : list.entries) listed.insert(e.base);
  std::vector<const std::string*> out;
  for (const auto& [base, f] : files)
    if (!listed.count(base)) out.push_back(&base);
  std::sort(out.begin(), out.end(),
            [](const std::string* a, const std::string* b) { return arrived_before(*a, *b); });
  return out;
}

// Gives unlisted files the next UIDs, caching their dates and sizes; true if
// any was added.
Result<bool> assign_uids(Uidlist& list, const FileMap& files, const std::filesystem::path& root,
                         const std::filesystem::path& dir) {
  std::vector<const std::string*> unknown = unlisted(list, files);
  if (std::uint64_t{list.uidnext} + unknown.size() > std::numeric_limits<std::uint32_t>::max()) {
    // UIDs ran out (RFC 3501 2.3.1.1): start over with a new UIDVALIDITY.
    auto v = next_uidvalidity(root);
    if (!v) return std::move(v).error();
    list = Uidlist{*v, 1, {}};
    unknown = unlisted(list, files);
  }
  bool added = false;
  for (const std::string* base : unknown) {
    auto e = describe(dir, *base, files.at(*base));
    if (!e) {
      if (e.error().code == Errc::not_found) continue;  // removed since the walk
      return std::move(e).error();
    }
    e->uid = list.uidnext++;
    list.entries.push_back(std::move(*e));
    added = true;
  }
  return added;
}

void fill_snapshot(Snapshot& snap, Uidlist&& list, const FileMap& files,
                   const std::filesystem::path& dir) {
  snap.uidvalidity = list.uidvalidity;
  snap.uidnext = list.uidnext;
  snap.messages.clear();
  snap.messages.reserve(list.entries.size());
  const std::string new_prefix = (dir / "new").native() + "/";
  const std::string cur_prefix = (dir / "cur").native() + "/";
  for (auto& e : list.entries) {
    const DirFile& f = files.at(e.base);
    FileName fn = parse_file_name(f.name);
    Message m;
    m.uid = e.uid;
    m.flags = fn.flags;
    m.keyword_bits = fn.keywords;
    m.keywords = snap.keywords.names_of(fn.keywords);
    m.size = e.size;
    m.vsize = e.vsize;
    m.internal_date = e.internal_date;
    m.other_flags = std::move(fn.other_flags);
    m.path = cat(f.in_new ? new_prefix : cur_prefix, f.name);
    m.in_new = f.in_new;
    m.recent = f.moved;
    m.base = std::move(e.base);
    snap.messages.push_back(std::move(m));
  }
}

void clean_tmp(const std::filesystem::path& folder) {
  auto names = list_dir(folder / "tmp");
  if (!names) return;
  std::int64_t now = std::time(nullptr);
  for (const auto& n : *names) {
    std::filesystem::path p = folder / "tmp" / n;
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > kTmpMaxAge)
      ::unlink(p.c_str());
  }
}

}  // namespace

const Message* Snapshot::find(std::uint32_t uid) const {
  auto it = std::lower_bound(messages.begin(), messages.end(), uid,
                             [](const Message& m, std::uint32_t u) { return m.uid < u; });
  return it != messages.end() && it->uid == uid ? &*it : nullptr;
}

Folder::Folder(std::filesystem::path root, std::string name, std::filesystem::path dir)
    : root_(std::move(root)), dir_(std::move(dir)), name_(std::move(name)) {}

Message* Folder::find_mut(std::uint32_t uid) { return const_cast<Message*>(snap_.find(uid)); }

Result<FileLock> Folder::lock() const { return FileLock::acquire(dir_ / kUidlistLock, true); }

Result<Uidlist> Folder::load_list(bool& dirty) const {
  auto text = read_file(dir_ / kUidlist);
  if (text) {
    auto list = parse_uidlist(*text);
    if (list) return list;
    log::warn("mailbox ", dir_.string(), ": ", list.error().detail, "; assigning new UIDs");
  } else if (text.error().code != Errc::not_found) {
    return std::move(text).error();
  }
  auto v = next_uidvalidity(root_);
  if (!v) return std::move(v).error();
  dirty = true;
  Uidlist fresh;
  fresh.uidvalidity = *v;
  return fresh;
}

Result<void> Folder::save_list(const Uidlist& list) const {
  return write_file_durable(dir_ / kUidlist, format_uidlist(list), 0600);
}

Result<void> Folder::save_keywords() const {
  return write_file_durable(dir_ / kKeywords, format_keywords(snap_.keywords), 0600);
}

Result<void> Folder::sync(SyncMode mode) {
  auto l = lock();
  if (!l) return std::move(l).error();
  if (mode == SyncMode::move_new) clean_tmp(dir_);
  return scan_locked(mode);
}

Folder::DirStamp Folder::stamp(const char* sub) const {
  struct stat st;
  if (::stat((dir_ / sub).c_str(), &st) != 0) return {};
  return DirStamp{true, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, static_cast<std::uint64_t>(st.st_ino)};
}

// Before the directories are read: a change after this point either shows
// in the walk or gives the directory a later time (unless it had changed
// within kRacyInterval, when the stamps are not trusted at all).
void Folder::take_stamps() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  new_stamp_ = stamp("new");
  cur_stamp_ = stamp("cur");
  stamps_trusted_ = new_stamp_.valid && cur_stamp_.valid &&
                    now.tv_sec - new_stamp_.sec >= kRacyInterval &&
                    now.tv_sec - cur_stamp_.sec >= kRacyInterval;
}

Result<bool> Folder::refresh(SyncMode mode) {
  bool left_in_new = mode == SyncMode::move_new &&
                     std::any_of(snap_.messages.begin(), snap_.messages.end(),
                                 [](const Message& m) { return m.in_new; });
  if (stamps_trusted_ && !left_in_new && stamp("new") == new_stamp_ && stamp("cur") == cur_stamp_)
    return false;
  auto l = lock();
  if (!l) return std::move(l).error();
  if (auto r = scan_locked(mode); !r) return std::move(r).error();
  return true;
}

Result<void> Folder::scan_locked(SyncMode mode) {
  take_stamps();
  bool dirty = false;
  auto list = load_list(dirty);
  if (!list) return std::move(list).error();
  auto kw = read_file(dir_ / kKeywords);
  snap_.keywords = kw ? parse_keywords(*kw) : KeywordTable{};

  bool move_new = mode == SyncMode::move_new;
  auto files = read_folder(dir_, move_new);
  if (!files) return std::move(files).error();
  auto missing = [&] {
    return std::any_of(list->entries.begin(), list->entries.end(),
                       [&](const UidEntry& e) { return !files->count(e.base); });
  };
  // Step 3: more looks before forgetting anything. A message really removed
  // costs these walks once; one renamed during a walk is found again.
  for (int walk = 1; walk < kMaxWalks && missing(); ++walk) {
    files = read_folder(dir_, move_new, std::move(*files));
    if (!files) return std::move(files).error();
  }
  if (forget_vanished(*list, *files)) dirty = true;
  auto added = assign_uids(*list, *files, root_, dir_);
  if (!added) return std::move(added).error();
  if (dirty || *added) {
    if (auto s = save_list(*list); !s) return s;
  }
  fill_snapshot(snap_, std::move(*list), *files, dir_);
  return {};
}

Uidlist Folder::list_from_snapshot() const {
  Uidlist l{snap_.uidvalidity, snap_.uidnext, {}};
  l.entries.reserve(snap_.messages.size());
  for (const auto& m : snap_.messages)
    l.entries.push_back(UidEntry{m.uid, m.internal_date, m.size, m.vsize, m.base});
  return l;
}

Result<std::uint32_t> next_uidvalidity(const std::filesystem::path& root) {
  auto l = FileLock::acquire(root / "posthorn-uidvalidity.lock", true);
  if (!l) return std::move(l).error();
  std::filesystem::path file = root / "posthorn-uidvalidity";
  unsigned long long last = 0;
  if (auto text = read_file(file, 64); text) {
    if (!parse_uint(trim(*text), last)) last = 0;  // damaged: the clock still moves on
  }
  unsigned long long now = static_cast<unsigned long long>(std::time(nullptr));
  unsigned long long v = std::max(now, last + 1);
  if (v > std::numeric_limits<std::uint32_t>::max()) v = 1;
  if (auto w = write_file_durable(file, cat(v, "\n"), 0600); !w) return std::move(w).error();
  return static_cast<std::uint32_t>(v);
}

}  // namespace posthorn::mailstore

// lib/mailstore/folder.cc - scanning a folder and keeping its UID list.
//
// sync, under the folder lock:
//   1. read posthorn-uidlist (missing or damaged: new UIDVALIDITY, empty list);
//      if its directory stamps match new/ and cur/ now (and, in move_new
//      mode, it left nothing in new/), the snapshot is made from it: done
//   2. read new/ (moving each file to cur/ in move_new mode), then cur/; in that
//      order a file moved from new/ to cur/ by someone else meanwhile is seen
//      at least once
//   3. while a listed file was not seen, read both directories again (up to
//      4 walks): readdir() may miss a file that another program renames
//      during the walk
//   4. forget listed files still not seen; give unlisted files the next UIDs
//      in order of arrival, caching their date and sizes
//   5. replace the list atomically if anything changed, or if the stamps taken
//      before step 2 can now be trusted and differ from the list's (so that
//      the next session can skip steps 2-4).
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
  bool listed = false;  // has an entry in the list (set by place_listed)
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
  files.reserve(files.size() + names->size());
  for (auto& n : *names) {
    std::string_view base = std::string_view(n).substr(0, n.find(':'));
    if (!storable_base(base)) {
      log::warn("mailbox ", folder.string(), ": ignoring file with unusable name ", n);  // the logger escapes it
      continue;
    }
    if (in_new && move_new) {
      FileName fn = parse_file_name(n);
      std::string to = cur_file_name(fn.base, fn.flags, fn.keywords, fn.other_flags);
      // ENOENT: someone else moved it; the walk of cur/ that follows sees it.
      if (::rename((folder / "new" / n).c_str(), (folder / "cur" / to).c_str()) != 0) continue;
      files.try_emplace(std::move(fn.base), DirFile{to, false, true});
      continue;
    }
    std::string key(base);
    files.try_emplace(std::move(key), DirFile{std::move(n), in_new, false});
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

// A directory opened for fstatat() of its entries (cheaper than a path walk
// from the root for each of 10,000 files).
struct DirFds {
  Fd new_dir, cur_dir;
  static DirFds open(const std::filesystem::path& folder) {
    return {Fd(::open((folder / "new").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
            Fd(::open((folder / "cur").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC))};
  }
};

// The list entry for a file seen for the first time; not_found if it vanished.
Result<UidEntry> describe(const std::filesystem::path& folder, const DirFds& fds,
                          const std::string& base, const DirFile& f) {
  const Fd& dfd = f.in_new ? fds.new_dir : fds.cur_dir;
  const char* sub = f.in_new ? "new" : "cur";
  struct stat st;
  if (!dfd || ::fstatat(dfd.get(), f.name.c_str(), &st, 0) != 0)
    return sys_error(cat("stat ", (folder / sub / f.name).string()));
  FileName fn;
  parse_size_fields(base, fn);
  UidEntry e;
  e.base = base;
  e.internal_date = std::max<std::int64_t>(st.st_mtime, 0);  // the list has no negative dates
  e.size = fn.has_size ? fn.size : static_cast<std::uint64_t>(st.st_size);
  if (fn.has_vsize) {
    e.vsize = fn.vsize;
  } else {
    auto v = compute_vsize(folder / sub / f.name);
    if (!v) return std::move(v).error();
    e.vsize = *v;
  }
  return e;
}

// Where `f` is, into its list entry.
void set_place(UidEntry& e, const DirFile& f) {
  std::size_t colon = f.name.find(':');
  e.info.assign(colon == std::string::npos ? std::string_view() : std::string_view(f.name).substr(colon));
  e.in_new = f.in_new;
}

// One look-up per listed entry: drops the entries whose files are gone,
// records where the others are now and marks their files listed. `moved`
// gets, per kept entry, whether this scan moved its file from new/. True if
// an entry was dropped.
bool place_listed(Uidlist& list, FileMap& files, std::vector<char>& moved) {
  moved.clear();
  moved.reserve(files.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < list.entries.size(); ++i) {
    auto it = files.find(list.entries[i].base);
    if (it == files.end()) continue;
    it->second.listed = true;
    set_place(list.entries[i], it->second);
    moved.push_back(it->second.moved);
    if (kept != i) list.entries[kept] = std::move(list.entries[i]);
    ++kept;
  }
  bool dropped = kept != list.entries.size();
  list.entries.resize(kept);
  return dropped;
}

// Files not in the list, in order of arrival. The leading seconds, which
// decide almost every comparison, are parsed once per name, not per compare.
std::vector<const FileMap::value_type*> unlisted(const FileMap& files) {
  struct Keyed {
    unsigned long long seconds;
    const FileMap::value_type* kv;
  };
  std::vector<Keyed> keyed;
  for (const auto& kv : files) {
    if (kv.second.listed) continue;
    keyed.push_back({arrival_seconds(kv.first), &kv});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.seconds != b.seconds) return a.seconds < b.seconds;
    return arrived_before(a.kv->first, b.kv->first);
  });
  std::vector<const FileMap::value_type*> out;
  out.reserve(keyed.size());
  for (const auto& k : keyed) out.push_back(k.kv);
  return out;
}

// Gives unlisted files the next UIDs, caching their dates and sizes; true if
// any was added. Run after place_listed; extends `moved` likewise.
Result<bool> assign_uids(Uidlist& list, FileMap& files, const std::filesystem::path& root,
                         const std::filesystem::path& dir, std::vector<char>& moved) {
  auto unknown = unlisted(files);
  if (std::uint64_t{list.uidnext} + unknown.size() > std::numeric_limits<std::uint32_t>::max()) {
    // UIDs ran out (RFC 3501 2.3.1.1): start over with a new UIDVALIDITY.
    auto v = next_uidvalidity(root);
    if (!v) return std::move(v).error();
    list = Uidlist{*v, 1, {}, {}, {}};
    moved.clear();
    for (auto& kv : files) kv.second.listed = false;
    unknown = unlisted(files);
  }
  bool added = false;
  DirFds fds;
  if (!unknown.empty()) fds = DirFds::open(dir);
  for (const auto* kv : unknown) {
    auto e = describe(dir, fds, kv->first, kv->second);
    if (!e) {
      if (e.error().code == Errc::not_found) continue;  // removed since the walk
      return std::move(e).error();
    }
    e->uid = list.uidnext++;
    set_place(*e, kv->second);
    moved.push_back(kv->second.moved);
    list.entries.push_back(std::move(*e));
    added = true;
  }
  return added;
}

// The snapshot from a list whose entries say where the files are.
// `moved`: per entry, whether this scan moved the file from new/ (empty: none).
void fill_snapshot(Snapshot& snap, Uidlist&& list, const std::vector<char>& moved,
                   const std::filesystem::path& dir) {
  snap.uidvalidity = list.uidvalidity;
  snap.uidnext = list.uidnext;
  snap.messages.clear();
  snap.messages.reserve(list.entries.size());
  const std::string new_prefix = (dir / "new").native() + "/";
  const std::string cur_prefix = (dir / "cur").native() + "/";
  for (std::size_t i = 0; i < list.entries.size(); ++i) {
    UidEntry& e = list.entries[i];
    FileName fn;
    parse_info(e.info, fn);
    Message m;
    m.uid = e.uid;
    m.flags = fn.flags;
    m.keyword_bits = fn.keywords;
    if (fn.keywords) m.keywords = snap.keywords.names_of(fn.keywords);
    m.size = e.size;
    m.vsize = e.vsize;
    m.internal_date = e.internal_date;
    m.other_flags = std::move(fn.other_flags);
    const std::string& prefix = e.in_new ? new_prefix : cur_prefix;
    m.path.reserve(prefix.size() + e.base.size() + e.info.size());
    m.path.append(prefix).append(e.base).append(e.info);
    m.in_new = e.in_new;
    m.recent = i < moved.size() && moved[i];
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

DirStamp Folder::stamp(const char* sub) const {
  struct stat st;
  if (::stat((dir_ / sub).c_str(), &st) != 0) return {};
  return DirStamp{true, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
                  st.st_ctim.tv_nsec, static_cast<std::uint64_t>(st.st_ino)};
}

// Before the directories are read: a change after this point either shows
// in the walk or gives the directory a later time (unless it had changed
// within kRacyInterval, when the stamps are not trusted at all).
void Folder::take_stamps() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  new_stamp_ = stamp("new");
  cur_stamp_ = stamp("cur");
  // The mtime decides: a directory whose mtime was set back by utime(2) has
  // a new ctime, and any later change moves the mtime off the old value.
  auto settled = [&](const DirStamp& s) { return s.valid && now.tv_sec - s.sec >= kRacyInterval; };
  stamps_trusted_ = settled(new_stamp_) && settled(cur_stamp_);
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

// Step 1's test: the list was written by a scan that began after new/ and
// cur/ had last changed (with kRacyInterval to spare), and they have not
// changed since.
bool Folder::list_current(const Uidlist& list, SyncMode mode) const {
  if (!stamps_trusted_ || !list.new_stamp.valid || list.new_stamp != new_stamp_ ||
      list.cur_stamp != cur_stamp_)
    return false;
  return mode == SyncMode::keep_new ||
         std::none_of(list.entries.begin(), list.entries.end(),
                      [](const UidEntry& e) { return e.in_new; });
}

Result<void> Folder::scan_locked(SyncMode mode) {
  take_stamps();
  bool dirty = false;
  auto list = load_list(dirty);
  if (!list) return std::move(list).error();
  auto kw = read_file(dir_ / kKeywords);
  snap_.keywords = kw ? parse_keywords(*kw) : KeywordTable{};
  if (!dirty && list_current(*list, mode)) {
    fill_snapshot(snap_, std::move(*list), {}, dir_);
    return {};
  }

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
  std::vector<char> moved;
  if (place_listed(*list, *files, moved)) dirty = true;
  auto added = assign_uids(*list, *files, root_, dir_, moved);
  if (!added) return std::move(added).error();
  // Our own moves from new/ changed the directories after the stamps were
  // taken: such a list could never be trusted, so it keeps no stamps.
  bool stamp_now = stamps_trusted_ && std::find(moved.begin(), moved.end(), 1) == moved.end();
  bool restamp = stamp_now && (list->new_stamp != new_stamp_ || list->cur_stamp != cur_stamp_);
  list->new_stamp = stamp_now ? new_stamp_ : DirStamp{};
  list->cur_stamp = stamp_now ? cur_stamp_ : DirStamp{};
  if (dirty || *added || restamp) {
    if (auto s = save_list(*list); !s) return s;
  }
  fill_snapshot(snap_, std::move(*list), moved, dir_);
  return {};
}

// For a list written after a change: it keeps no stamps (the change just
// made new/ or cur/ newer than any stamp).
Uidlist Folder::list_from_snapshot() const {
  Uidlist l{snap_.uidvalidity, snap_.uidnext, {}, {}, {}};
  l.entries.reserve(snap_.messages.size());
  for (const auto& m : snap_.messages) {
    std::size_t slash = m.path.rfind('/');
    std::size_t colon = m.path.find(':', slash == std::string::npos ? 0 : slash);
    l.entries.push_back(UidEntry{m.uid, m.internal_date, m.size, m.vsize, m.base,
                                 colon == std::string::npos ? std::string() : m.path.substr(colon),
                                 m.in_new});
  }
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

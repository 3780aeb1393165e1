// imapd/fetch_cache.cc - see fetch_cache.h.
#include "imapd/fetch_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/mailstore/lock.h"

namespace posthorn::imapd {
namespace {

constexpr std::string_view kName = "posthorn-cache";

bool parse_number(std::string_view s, unsigned long long& out) {
  return !s.empty() && s.size() <= 20 && parse_uint(s, out);
}

}  // namespace

FetchCache::FetchCache(std::filesystem::path folder_dir, std::uint32_t uidvalidity)
    : path_(std::move(folder_dir) / kName), uidvalidity_(uidvalidity) {}

FetchCache::~FetchCache() { flush(); }

std::string FetchCache::header() const { return cat(kName, " 1 ", uidvalidity_, "\n"); }

// Reads every complete record; stops at the first that is not one.
void FetchCache::load() {
  loaded_ = true;
  auto text = read_file(path_, kMaxFile);
  if (!text) {  // missing, unreadable or too large: start over at the next write
    foreign_ = text.error().code != Errc::not_found;
    return;
  }
  std::string_view t = *text;
  if (t.substr(0, t.find('\n') + 1) != header()) {
    foreign_ = !t.empty();
    return;
  }
  std::size_t pos = header().size();
  while (pos < t.size()) {
    std::size_t nl = t.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::vector<std::string> f = split(t.substr(pos, nl - pos), ' ');
    unsigned long long uid = 0, len = 0;
    if (f.size() != 3 || !parse_number(f[0], uid) || uid == 0 || uid > 0xffffffffULL ||
        f[1].size() != 1 || !parse_number(f[2], len) || nl + 1 + len >= t.size() ||
        t[nl + 1 + len] != '\n')
      break;
    entries_[Key{static_cast<std::uint32_t>(uid), f[1][0]}] = std::string(t.substr(nl + 1, len));
    ++records_;
    pos = nl + 1 + len + 1;
  }
}

std::optional<std::string_view> FetchCache::find(std::uint32_t uid, Kind kind) {
  if (!loaded_) load();
  auto it = entries_.find(Key{uid, static_cast<char>(kind)});
  if (it == entries_.end()) return std::nullopt;
  return std::string_view(it->second);
}

void FetchCache::add(std::uint32_t uid, Kind kind, std::string value) {
  if (!loaded_) load();
  pending_ += cat(uid, " ", static_cast<char>(kind), " ", value.size(), "\n");
  pending_ += value;
  pending_ += '\n';
  ++pending_records_;
  entries_[Key{uid, static_cast<char>(kind)}] = std::move(value);
  if (pending_.size() >= kWriteBatch) flush();
}

void FetchCache::flush() {
  if (pending_.empty()) return;
  std::string data = std::move(pending_);
  std::size_t n = std::exchange(pending_records_, 0);
  pending_.clear();
  if (foreign_) {  // not ours to append to: replace it with what we have
    if (replace(data)) records_ = n;
    return;
  }
  auto fd = open_file(path_, O_WRONLY | O_APPEND | O_CREAT, 0600);
  if (!fd) return;
  struct stat st;
  if (::fstat(fd->get(), &st) != 0 || st.st_size > static_cast<off_t>(kMaxFile)) return;
  // A new file gets the header. Two sessions creating it at once may both
  // write one: the second ends the reading there (load()), costing only
  // the records after it.
  if (st.st_size == 0) data.insert(0, header());
  if (auto w = write_all(fd->get(), data); !w) {
    log::warn(path_.string(), ": ", w.error().detail);
    return;
  }
  records_ += n;
}

bool FetchCache::replace(const std::string& records) {
  auto lock = mailstore::FileLock::acquire(path_.string() + ".lock", false);
  if (!lock) return false;  // someone else rewrites it
  // Not fsynced: a cache lost in a crash is only work to redo.
  std::filesystem::path tmp = path_.string() + ".new";
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!fd || !write_all(fd->get(), header() + records) || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  foreign_ = false;
  return true;
}

void FetchCache::compact(const std::vector<std::uint32_t>& live) {
  if (!loaded_) return;
  flush();
  std::size_t alive = 0;
  for (const auto& [k, v] : entries_)
    if (std::binary_search(live.begin(), live.end(), k.uid)) ++alive;
  if (!foreign_ && records_ <= 2 * alive + 64) return;
  std::vector<std::pair<Key, const std::string*>> keep;  // in UID order, for readers' locality
  for (const auto& [k, v] : entries_)
    if (std::binary_search(live.begin(), live.end(), k.uid)) keep.emplace_back(k, &v);
  std::sort(keep.begin(), keep.end(), [](const auto& a, const auto& b) {
    return a.first.uid != b.first.uid ? a.first.uid < b.first.uid : a.first.kind < b.first.kind;
  });
  std::string out;
  for (const auto& [k, v] : keep) {
    out += cat(k.uid, " ", k.kind, " ", v->size(), "\n");
    out += *v;
    out += '\n';
  }
  if (replace(out)) records_ = alive;
}

}  // namespace posthorn::imapd

// lib/mailstore/store.cc - see store.h.
#include "lib/mailstore/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"
#include "lib/mailstore/new_message.h"

namespace posthorn::mailstore {
namespace {

namespace fs = std::filesystem;
constexpr const char* kSubscriptions = "subscriptions";

bool is_maildir(const fs::path& dir) {
  struct stat st;
  return ::stat((dir / "cur").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<void> make_dir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) return sys_error(cat("mkdir ", p.string()));
  return {};
}

Result<void> make_maildir(const fs::path& dir) {
  for (const fs::path& p : {dir, dir / "cur", dir / "new", dir / "tmp"})
    if (auto r = make_dir(p); !r) return r;
  return {};
}

// Directory names under the root that start with '.' (the folders).
Result<std::vector<std::string>> dot_dirs(const fs::path& root) {
  Owned<DIR, closedir> d(::opendir(root.c_str()));
  if (!d) return sys_error(cat("opendir ", root.string()));
  std::vector<std::string> out;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n.size() > 1 && n[0] == '.' && n != "..") out.emplace_back(n.substr(1));
  }
  return out;
}

Result<void> rename_dir(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY)
      return make_error(Errc::exists, cat(to.string(), " exists"));
    return sys_error(cat("rename ", from.string(), " to ", to.string()));
  }
  return {};
}

}  // namespace

Result<Store> Store::open(const fs::path& root, bool create) {
  if (!is_maildir(root)) {
    if (!create) return make_error(Errc::not_found, cat(root.string(), ": no Maildir"));
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return make_error(Errc::io, cat("mkdir ", root.string(), ": ", ec.message()));
    if (auto r = make_maildir(root); !r) return std::move(r).error();
  }
  return Store(root);
}

Result<fs::path> Store::folder_path(std::string_view name) const {
  auto c = canonical_folder_name(name);
  if (!c) return std::move(c).error();
  std::string d = folder_dir_name(*c);
  return d.empty() ? root_ : root_ / d;
}

Result<Folder> Store::folder(std::string_view name) const {
  auto c = canonical_folder_name(name);
  if (!c) return std::move(c).error();
  fs::path dir = is_inbox(*c) ? root_ : root_ / folder_dir_name(*c);
  if (!is_maildir(dir)) return make_error(Errc::not_found, cat("no folder ", *c));
  return Folder(root_, *c, dir);
}

Result<std::vector<std::string>> Store::list() const {
  auto dirs = dot_dirs(root_);
  if (!dirs) return std::move(dirs).error();
  std::vector<std::string> out;
  for (const auto& n : *dirs) {
    auto c = canonical_folder_name(n);
    if (c && *c == n && is_maildir(root_ / cat(".", n))) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  out.insert(out.begin(), "INBOX");
  return out;
}

Result<void> Store::create(std::string_view name) {
  auto c = canonical_folder_name(name);
  if (!c) return std::move(c).error();
  if (is_inbox(*c)) return make_error(Errc::exists, "INBOX exists");
  fs::path target = root_ / folder_dir_name(*c);
  if (is_maildir(target)) return make_error(Errc::exists, cat("folder ", *c, " exists"));
  // Built under a name that list() ignores, then renamed into place, so that
  // no reader ever sees a half-made folder.
  fs::path work = root_ / cat("posthorn-creating.", unique_base());
  auto fail = [&](Error e) -> Result<void> {
    std::error_code ec;
    fs::remove_all(work, ec);
    return e;
  };
  if (auto r = make_maildir(work); !r) return fail(std::move(r).error());
  if (auto f = open_file(work / "maildirfolder", O_WRONLY | O_CREAT, 0600); !f)
    return fail(std::move(f).error());  // Courier's and Dovecot's marker of a Maildir++ folder
  if (auto r = rename_dir(work, target); !r) return fail(std::move(r).error());
  return fsync_dir(root_);
}

Result<void> Store::remove(std::string_view name) {
  auto c = canonical_folder_name(name);
  if (!c) return std::move(c).error();
  if (is_inbox(*c)) return make_error(Errc::invalid, "INBOX cannot be deleted");
  fs::path dir = root_ / folder_dir_name(*c);
  if (!is_maildir(dir)) return make_error(Errc::not_found, cat("no folder ", *c));
  // One rename makes the folder vanish for every reader at once; the slow
  // removal of its files happens out of sight.
  fs::path trash = root_ / cat("posthorn-deleted.", unique_base());
  if (auto r = rename_dir(dir, trash); !r) return r;
  std::error_code ec;
  fs::remove_all(trash, ec);
  if (ec) return make_error(Errc::io, cat("remove ", trash.string(), ": ", ec.message()));
  return fsync_dir(root_);
}

Result<void> Store::rename(std::string_view from, std::string_view to) {
  auto f = canonical_folder_name(from);
  if (!f) return std::move(f).error();
  auto t = canonical_folder_name(to);
  if (!t) return std::move(t).error();
  if (is_inbox(*t)) return make_error(Errc::exists, "INBOX exists");
  if (is_inbox(*f)) return rename_inbox(*t);
  fs::path src = root_ / folder_dir_name(*f), dst = root_ / folder_dir_name(*t);
  if (!is_maildir(src)) return make_error(Errc::not_found, cat("no folder ", *f));
  if (is_maildir(dst)) return make_error(Errc::exists, cat("folder ", *t, " exists"));
  auto all = list();
  if (!all) return std::move(all).error();
  std::string prefix = *f + ".";
  std::vector<std::string> children;
  for (const auto& n : *all) {
    if (n.compare(0, prefix.size(), prefix) != 0) continue;
    std::string moved = cat(*t, ".", n.substr(prefix.size()));
    if (is_maildir(root_ / cat(".", moved)))
      return make_error(Errc::exists, cat("folder ", moved, " exists"));
    children.push_back(n.substr(prefix.size()));
  }
  if (auto r = rename_dir(src, dst); !r) return r;
  // XXX: not atomic as a whole; a crash here leaves some sub-folders under
  // the old name, each of them complete.
  for (const auto& c : children)
    if (auto r = rename_dir(root_ / cat(".", prefix, c), root_ / cat(".", *t, ".", c)); !r) return r;
  return fsync_dir(root_);
}

// RFC 3501 6.3.5: renaming INBOX moves all its messages to the new name and
// leaves INBOX empty. The messages get UIDs in the new folder at its first
// sync; INBOX keeps its UIDVALIDITY and UIDNEXT, so no UID is ever reused.
Result<void> Store::rename_inbox(const std::string& to) {
  if (auto r = create(to); !r) return r;
  auto inbox = folder("INBOX");
  if (!inbox) return std::move(inbox).error();
  if (auto s = inbox->sync(SyncMode::keep_new); !s) return s;
  std::vector<std::uint32_t> uids;
  for (const auto& m : inbox->snapshot().messages) uids.push_back(m.uid);
  auto dest = folder(to);
  if (!dest) return std::move(dest).error();
  auto moved = inbox->move_to(*dest, uids);
  if (!moved) return std::move(moved).error();
  return {};
}

Result<std::vector<std::string>> Store::subscriptions() const {
  auto text = read_file(root_ / kSubscriptions);
  if (!text) {
    if (text.error().code == Errc::not_found) return std::vector<std::string>{};
    return std::move(text).error();
  }
  std::vector<std::string> lines = split(*text, '\n');
  // Dovecot 2.3 may write version 2: "V\t2", an empty line, then names with
  // hierarchy levels separated by tabs. Version 1 is one name per line.
  bool v2 = !lines.empty() && lines[0] == "V\t2";
  std::vector<std::string> out;
  for (std::size_t i = v2 ? 1 : 0; i < lines.size(); ++i) {
    std::string n = lines[i];
    if (v2) std::replace(n.begin(), n.end(), '\t', '.');
    auto c = canonical_folder_name(n);
    if (c && std::find(out.begin(), out.end(), *c) == out.end()) out.push_back(*c);
  }
  return out;
}

Result<void> Store::edit_subscriptions(const std::string& name, bool add) {
  auto l = FileLock::acquire(root_ / "posthorn-subscriptions.lock", true);
  if (!l) return std::move(l).error();
  auto names = subscriptions();
  if (!names) return std::move(names).error();
  auto it = std::find(names->begin(), names->end(), name);
  if (add == (it != names->end())) return {};
  if (add) names->push_back(name);
  else names->erase(it);
  std::string text;
  for (const auto& n : *names) text += n + "\n";
  return write_file_durable(root_ / kSubscriptions, text, 0600);
}

Result<void> Store::subscribe(std::string_view name) {
  auto c = canonical_folder_name(name);
  if (!c) return std::move(c).error();
  return edit_subscriptions(*c, true);
}

Result<void> Store::unsubscribe(std::string_view name) {
  auto c = canonical_folder_name(name);
  if (!c) return std::move(c).error();
  return edit_subscriptions(*c, false);
}

Result<FileLock> Store::lock_session(bool wait) const {
  return FileLock::acquire(root_ / "posthorn-session.lock", wait);
}

Result<std::string> deliver(const fs::path& folder_dir, std::string_view message) {
  auto nm = NewMessage::create(folder_dir);
  if (!nm) return std::move(nm).error();
  if (auto r = nm->write(message); !r) return std::move(r).error();
  return nm->deliver();
}

}  // namespace posthorn::mailstore

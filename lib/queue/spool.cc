// lib/queue/spool.cc - see spool.h.
#include "lib/queue/spool.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::queue {
namespace {

std::string octal(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Checks (and with repair, fixes) one directory; appends what was wrong.
void check_dir(const std::filesystem::path& path, uid_t uid, gid_t gid, mode_t mode, bool repair,
               std::vector<SpoolProblem>& out) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    int e = errno;
    SpoolProblem p{path, e == ENOENT ? std::string("missing") : sys_error("lstat", e).detail};
    if (repair && e == ENOENT && ::mkdir(path.c_str(), 0700) == 0 && ::lstat(path.c_str(), &st) == 0)
      p.repaired = true;
    out.push_back(std::move(p));
    if (!out.back().repaired) return;
  }
  if (!S_ISDIR(st.st_mode)) {  // a symlink or a file: never "repaired" by us
    out.push_back({path, "not a directory"});
    return;
  }
  if (st.st_uid != uid || st.st_gid != gid) {
    SpoolProblem p{path, cat("owner ", st.st_uid, ":", st.st_gid, ", expected ", uid, ":", gid)};
    p.repaired = repair && ::lchown(path.c_str(), uid, gid) == 0;
    out.push_back(std::move(p));
  }
  // chown may clear set-id bits, so the mode is checked after it.
  if (::lstat(path.c_str(), &st) == 0 && (st.st_mode & 07777) != mode) {
    SpoolProblem p{path, cat("mode ", octal(st.st_mode), ", expected ", octal(mode))};
    p.repaired = repair && ::chmod(path.c_str(), mode) == 0;
    out.push_back(std::move(p));
  }
}

}  // namespace

std::string_view queue_dir_name(QueueName q) {
  switch (q) {
    case QueueName::maildrop: return "maildrop";
    case QueueName::incoming: return "incoming";
    case QueueName::active: return "active";
    case QueueName::deferred: return "deferred";
    case QueueName::hold: return "hold";
    case QueueName::corrupt: return "corrupt";
    case QueueName::defer: return "defer";
    case QueueName::bounce: return "bounce";
    case QueueName::private_: return "private";
    case QueueName::public_: return "public";
  }
  return "invalid";
}

std::vector<DirSpec> spool_layout(const SpoolOwners& o) {
  std::vector<DirSpec> out;
  for (QueueName q : kAllQueues) {
    if (q == QueueName::maildrop)
      out.push_back({q, o.mail_owner, o.maildrop_group, 01730});
    else if (q == QueueName::public_)
      out.push_back({q, o.mail_owner, o.maildrop_group, 0710});
    else
      out.push_back({q, o.mail_owner, o.mail_group, 0700});
  }
  return out;
}

Result<std::vector<SpoolProblem>> check_spool(const Spool& spool, const SpoolOwners& owners,
                                              bool repair) {
  std::vector<SpoolProblem> out;
  struct stat st;
  if (::stat(spool.root().c_str(), &st) != 0) {
    if (errno != ENOENT || !repair) return sys_error(cat("stat ", spool.root().string()));
    std::error_code ec;
    std::filesystem::create_directories(spool.root(), ec);
    if (ec) return make_error(Errc::io, cat("mkdir ", spool.root().string(), ": ", ec.message()));
    if (::stat(spool.root().c_str(), &st) != 0) return sys_error(cat("stat ", spool.root().string()));
  }
  if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, cat(spool.root().string(), ": not a directory"));
  // Anyone who may write the root could swap a queue directory for his own.
  if ((st.st_mode & 022) != 0) {
    SpoolProblem p{spool.root(), cat("mode ", octal(st.st_mode), " is writable by group or others")};
    p.repaired = repair && ::chmod(spool.root().c_str(), st.st_mode & 07755) == 0;
    out.push_back(std::move(p));
  }
  for (const DirSpec& d : spool_layout(owners))
    check_dir(spool.dir(d.queue), d.uid, d.gid, d.mode, repair, out);
  return out;
}

Result<void> create_spool(const Spool& spool, const SpoolOwners& owners) {
  auto problems = check_spool(spool, owners, true);
  if (!problems) return std::move(problems).error();
  std::string left;
  for (const SpoolProblem& p : *problems)
    if (!p.repaired) left += cat(left.empty() ? "" : "; ", p.path.string(), ": ", p.what);
  if (!left.empty()) return make_error(Errc::permission, cat("cannot set up the spool: ", left));
  return {};
}

Result<void> check_one_filesystem(const Spool& spool) {
  struct stat root;
  if (::stat(spool.root().c_str(), &root) != 0) return sys_error(cat("stat ", spool.root().string()));
  for (QueueName q : kAllQueues) {
    struct stat st;
    if (::stat(spool.dir(q).c_str(), &st) != 0) return sys_error(cat("stat ", spool.dir(q).string()));
    if (st.st_dev != root.st_dev)
      return make_error(Errc::unsupported,
                        cat("queue directory ", spool.dir(q).string(), " is on another filesystem than ",
                            spool.root().string(), " (device ", st.st_dev, " vs ", root.st_dev,
                            "); a rename between them would not be atomic: keep the whole "
                            "queue_directory on one filesystem"));
  }
  return {};
}

int rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // XXX: without RENAME_NOREPLACE a crash between link and unlink leaves the
  // file under both names: a possible duplicate delivery, never a loss.
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  return ::unlink(from.c_str());
}

Result<void> move_file(const Spool& spool, std::string_view name, QueueName from, QueueName to) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return make_error(Errc::invalid, cat("bad queue file name \"", printable(name), "\""));
  std::filesystem::path src = spool.dir(from) / name, dst = spool.dir(to) / name;
  // sys_error() makes ENOENT Errc::not_found and EEXIST Errc::exists.
  if (rename_noreplace(src, dst) != 0)
    return sys_error(cat("rename ", src.string(), " to ", dst.string()));
  if (auto ok = fsync_dir(dst.parent_path()); !ok) return ok;
  return fsync_dir(src.parent_path());
}

Result<void> remove_queue_file(const Spool& spool, QueueName queue, const QueueId& id) {
  std::filesystem::path p = spool.file(queue, id);
  if (::unlink(p.c_str()) != 0) return sys_error(cat("unlink ", p.string()));
  return fsync_dir(spool.dir(queue));
}

Result<QueueListing> list_queue(const Spool& spool, QueueName queue) {
  std::error_code ec;
  std::filesystem::directory_iterator it(spool.dir(queue), ec);
  if (ec) return make_error(Errc::io, cat("open ", spool.dir(queue).string(), ": ", ec.message()));
  QueueListing out;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(Errc::io, cat("read ", spool.dir(queue).string(), ": ", ec.message()));
    std::string name = it->path().filename().string();
    if (auto id = QueueId::parse(name))
      out.ids.push_back(*id);
    else if (name.rfind(".tmp.", 0) != 0)
      out.strangers.push_back(std::move(name));
  }
  std::sort(out.ids.begin(), out.ids.end());
  std::sort(out.strangers.begin(), out.strangers.end());
  return out;
}

Result<void> move_queue_file(const Spool& spool, const QueueId& id, QueueName from, QueueName to) {
  return move_file(spool, id.str(), from, to);
}

}  // namespace posthorn::queue

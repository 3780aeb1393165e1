// lib/queue/spool.h - the spool directory layout, its ownership and modes,
// and moving queue files between queues.
//
// Layout under queue_directory (Postfix's, so an administrator finds things
// where he expects them):
//   maildrop/  owner:maildrop-group 1730  postdrop drops files, users cannot list
//   incoming/  owner:group 0700           complete new messages, before qmgr saw them
//   active/    owner:group 0700           messages qmgr is working on
//   deferred/  owner:group 0700           messages waiting for a retry
//   hold/      owner:group 0700           messages put on hold; never scheduled
//   corrupt/   owner:group 0700           damaged files, kept for the administrator
//   defer/     owner:group 0700           per-message logs of deferral reasons
//   bounce/    owner:group 0700           per-message logs of bounce reasons
//   private/   owner:group 0700           sockets only the mail owner reaches
//   public/    owner:maildrop-group 0710  sockets the maildrop group reaches (pickup)
//
// Every move between queues is one rename(2) inside one filesystem, which is
// atomic: a file is in exactly one queue at every instant, before and after
// a crash. That is why all queue directories must share a device
// (check_one_filesystem()).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_id.h"

namespace posthorn::queue {

enum class QueueName { maildrop, incoming, active, deferred, hold, corrupt, defer, bounce,
                       private_, public_ };
inline constexpr QueueName kAllQueues[] = {
    QueueName::maildrop, QueueName::incoming, QueueName::active,   QueueName::deferred,
    QueueName::hold,     QueueName::corrupt,  QueueName::defer,    QueueName::bounce,
    QueueName::private_, QueueName::public_};

// "maildrop", "incoming", ..., "private", "public".
std::string_view queue_dir_name(QueueName q);

// A spool rooted at queue_directory. Cheap to copy; does no I/O.
class Spool {
 public:
  explicit Spool(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path dir(QueueName q) const { return root_ / queue_dir_name(q); }
  std::filesystem::path file(QueueName q, const QueueId& id) const { return dir(q) / id.str(); }

 private:
  std::filesystem::path root_;
};

// Who owns the spool (main.cf mail_owner and setgid_group in Postfix terms).
// In instance mode all three are the invoking user's uid and primary gid.
struct SpoolOwners {
  uid_t mail_owner;
  gid_t mail_group;
  gid_t maildrop_group;
};

// What one directory should look like.
struct DirSpec {
  QueueName queue;
  uid_t uid;
  gid_t gid;
  mode_t mode;  // permission bits including sticky, e.g. 01730
};
std::vector<DirSpec> spool_layout(const SpoolOwners& owners);

// One thing wrong with the spool.
struct SpoolProblem {
  std::filesystem::path path;
  std::string what;       // "mode 0755, expected 0700", "missing", "owner 0:0, expected 101:103"
  bool repaired = false;  // true when check_spool(repair=true) fixed it
};

// Checks the root (exists, a directory, not writable by group or others) and
// every directory of spool_layout(owners): exists, is a real directory (not a
// symlink), owner, group and mode. With repair, creates what is missing and
// fixes owner (chown needs privilege unless the owners are the caller) and
// mode, and marks each problem repaired. The result lists every problem found,
// in layout order; an empty list means the spool is right. Errc::io only when
// the root cannot be examined at all.
Result<std::vector<SpoolProblem>> check_spool(const Spool& spool, const SpoolOwners& owners,
                                              bool repair);

// check_spool(repair = true), then Errc::permission naming every problem that
// could not be repaired. For `posthorn start` and instance set-up.
Result<void> create_spool(const Spool& spool, const SpoolOwners& owners);

// All queue directories on one device (st_dev equal), so that the renames
// between them are atomic. Errc::unsupported names the directory that differs.
Result<void> check_one_filesystem(const Spool& spool);

// Moves `name` from queue `from` to queue `to` by rename(2), never replacing
// a file of that name in `to` (Errc::exists), then fsyncs `to` and `from`
// (in that order: after a crash the file is at least in its new place). `name`
// must be a plain file name (no '/', not "." or ".."): Errc::invalid.
// Errc::not_found when there is no such file in `from`.
Result<void> move_file(const Spool& spool, std::string_view name, QueueName from, QueueName to);
// The same for a queue file named by its ID.
Result<void> move_queue_file(const Spool& spool, const QueueId& id, QueueName from, QueueName to);

// Removes queue file `id` from `queue` and fsyncs the directory, so that a
// crash cannot bring a finished message back. Errc::not_found if it is not there.
Result<void> remove_queue_file(const Spool& spool, QueueName queue, const QueueId& id);

// The files of one queue directory.
struct QueueListing {
  std::vector<QueueId> ids;             // names that are queue IDs, oldest first
  std::vector<std::string> strangers;   // other names, except writers' ".tmp." files
};
// Lists `queue` (qmgr's start-up scan of incoming/, the queue tools). Strangers
// are for the caller to quarantine() or report. Errc::io if the directory
// cannot be read.
Result<QueueListing> list_queue(const Spool& spool, QueueName queue);

// rename(2) that fails with EEXIST instead of replacing `to` (renameat2
// RENAME_NOREPLACE; link + unlink where the filesystem lacks it). Returns 0 or
// -1 with errno set, like rename(2).
int rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace posthorn::queue

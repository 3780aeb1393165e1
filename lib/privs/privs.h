// lib/privs - the one place in Posthorn that changes a process's identity.
//
// STYLE.md section 9 fixes the order, and drop() follows it: the caller has
// already read its secrets and opened the files it needs; then chroot (while
// still root), setgroups (no supplementary groups at all), setresgid,
// setresuid, and last a check that the old identity cannot come back
// (setuid(0) must fail, every uid and gid must be the new ones).
//
// Refusals: dropping to uid 0 (mail_owner must never be root), and any
// partial result: a step that fails leaves the process unusable, so drop()
// reports it and the caller stops (a daemon fatal()s; it never runs on with
// half its privileges).
//
// Instance mode: a process not started as root changes nothing
// (drop_if_root() is then a no-op), so the same code paths run everywhere.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "lib/base/result.h"

namespace posthorn::privs {

struct Identity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // the account's primary group
};

// The account called `name` (getpwnam_r). Errc::not_found when there is no
// such account, Errc::io when the lookup itself failed.
Result<Identity> lookup_user(const std::string& name);
// The gid of group `name` (getgrnam_r); errors as lookup_user().
Result<gid_t> lookup_group(const std::string& name);

// True when the real or effective uid is 0.
bool is_root();

// The account that runs unprivileged daemons: mail_owner looked up, refused
// (Errc::permission) when it is uid 0 or gid 0.
Result<Identity> mail_owner_identity(const std::string& mail_owner);

// Becomes `who` for good: optional chroot into `jail` (empty: none; the
// jail becomes "/" and the working directory), then setgroups() to none,
// setresgid, setresuid, then verifies that uid 0 cannot be regained.
// Requires root: Errc::permission otherwise. Errc::permission for uid/gid 0
// targets; Errc::io (naming the step) when a step fails.
Result<void> drop(const Identity& who, const std::filesystem::path& jail);

// drop() when is_root(); otherwise nothing (instance mode), and a jail is
// ignored: chroot(2) needs root.
Result<void> drop_if_root(const Identity& who, const std::filesystem::path& jail);

}  // namespace posthorn::privs

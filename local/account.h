// local/account.h - the system accounts local delivers for, and the identity
// it takes on for each delivery.
//
// Accounts come from the system's account database (getpwnam_r and
// getpwuid_r, so NSS sources work). Rights are what a delivery runs with:
// the account's uid, primary gid and (for mailbox and file deliveries of
// system users) its supplementary groups.
//
// EffectiveIdentity is local's temporary identity change: root in between
// deliveries (local needs root to become each recipient in turn, as Postfix's
// local does), the recipient's effective uid and gids during a file delivery.
// It changes only the effective ids and the group list (the saved uid stays
// 0), so it can be undone; command deliveries fork and drop for good with
// lib/privs instead. XXX: a temporary switch is local's need alone, so it
// lives here rather than in lib/privs, which does the permanent drops.
// Not root (instance mode): nothing switches, and every delivery runs as the
// invoking user.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::local {

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

// The account called `name`: nullopt when there is none; Errc::io when the
// lookup itself failed (an NSS source down: the caller defers).
Result<std::optional<Account>> find_account(const std::string& name);
Result<std::optional<Account>> find_account_by_uid(uid_t uid);

// Who a delivery runs as.
struct Rights {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups; empty = just gid
  std::string name;           // for messages
};

// `a` with its supplementary groups (getgrouplist).
Rights rights_of(const Account& a);
// A numeric identity without an account (virtual mailboxes).
Rights numeric_rights(uid_t uid, gid_t gid);

// True when local can change identity (started as root).
bool can_switch();

class EffectiveIdentity {  // move-only; restores root when it goes
 public:
  // Takes on `who` (groups, then egid, then euid). Errc::permission for a
  // target of uid 0 when `allow_root` is false; Errc::io when a step fails
  // (what was changed is undone first). Not root: does nothing.
  static Result<EffectiveIdentity> become(const Rights& who, bool allow_root = false);

  EffectiveIdentity(EffectiveIdentity&& o) noexcept : active_(o.active_) { o.active_ = false; }
  EffectiveIdentity& operator=(EffectiveIdentity&&) = delete;
  EffectiveIdentity(const EffectiveIdentity&) = delete;
  ~EffectiveIdentity();

 private:
  explicit EffectiveIdentity(bool active) : active_(active) {}
  bool active_;
};

// Records root's group list at start-up, for EffectiveIdentity to restore.
void remember_root_groups();

}  // namespace posthorn::local

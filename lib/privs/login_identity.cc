// lib/privs/login_identity.cc - see login_identity.h.
#include "lib/privs/login_identity.h"

#include <grp.h>
#include <unistd.h>

#include "lib/base/strings.h"

namespace posthorn::privs {

Result<void> serve_as_mail_owner(const Identity& who) {
  if (!is_root()) return {};
  if (who.uid == 0 || who.gid == 0)
    return make_error(Errc::permission, cat("refusing to serve as ", who.name, ": uid or gid 0"));
  if (::setgroups(0, nullptr) != 0) return sys_error("setgroups");
  if (::setresgid(who.gid, who.gid, who.gid) != 0) return sys_error("setresgid");
  if (::setresuid(who.uid, who.uid, 0) != 0) return sys_error("setresuid");
  uid_t r, e, s;
  if (::getresuid(&r, &e, &s) != 0) return sys_error("getresuid");
  if (r != who.uid || e != who.uid || s != 0)
    return make_error(Errc::io, "identity after setresuid is not the requested one");
  return {};
}

bool holding_root() {
  uid_t r, e, s;
  return ::getresuid(&r, &e, &s) == 0 && s == 0 && e != 0;
}

Result<void> become_owner(const Identity& owner) {
  if (owner.uid == 0 || owner.gid == 0)
    return make_error(Errc::permission, cat("refusing to run as ", owner.name, ": uid or gid 0"));
  if (!holding_root() && !is_root()) return {};
  if (::geteuid() != 0 && ::setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)) != 0)
    return sys_error("regain root through the saved uid");
  return drop(owner, {});
}

}  // namespace posthorn::privs

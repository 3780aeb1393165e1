// local/account.cc - see account.h.
#include "local/account.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::local {

namespace {

template <class Get>
Result<std::optional<Account>> lookup(Get get, const std::string& what) {
  std::vector<char> buf(4096);
  passwd pw{};
  passwd* found = nullptr;
  int rc;
  while ((rc = get(&pw, buf, &found)) == ERANGE && buf.size() < (1u << 20)) buf.resize(buf.size() * 4);
  if (rc != 0 && rc != ENOENT && rc != ESRCH) return sys_error(cat("look up account ", what), rc);
  if (!found) return std::optional<Account>();
  return std::optional<Account>(Account{found->pw_name, found->pw_uid, found->pw_gid,
                                        found->pw_dir ? found->pw_dir : "",
                                        found->pw_shell ? found->pw_shell : ""});
}

std::vector<gid_t> root_groups;  // set once at start-up

}  // namespace

Result<std::optional<Account>> find_account(const std::string& name) {
  return lookup(
      [&](passwd* pw, std::vector<char>& buf, passwd** found) {
        return ::getpwnam_r(name.c_str(), pw, buf.data(), buf.size(), found);
      },
      name);
}

Result<std::optional<Account>> find_account_by_uid(uid_t uid) {
  return lookup(
      [&](passwd* pw, std::vector<char>& buf, passwd** found) {
        return ::getpwuid_r(uid, pw, buf.data(), buf.size(), found);
      },
      cat("uid ", uid));
}

Rights rights_of(const Account& a) {
  Rights r{a.uid, a.gid, {}, a.name};
  int n = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  while (::getgrouplist(a.name.c_str(), a.gid, groups.data(), &n) < 0 && n < 65536)
    groups.resize(static_cast<std::size_t>(n));
  groups.resize(static_cast<std::size_t>(std::max(n, 0)));
  r.groups = std::move(groups);
  return r;
}

Rights numeric_rights(uid_t uid, gid_t gid) { return Rights{uid, gid, {}, cat("uid ", uid)}; }

bool can_switch() { return ::getuid() == 0; }

void remember_root_groups() {
  int n = ::getgroups(0, nullptr);
  root_groups.assign(n > 0 ? static_cast<std::size_t>(n) : 0, 0);
  if (n > 0 && ::getgroups(n, root_groups.data()) != n) root_groups.clear();
}

Result<EffectiveIdentity> EffectiveIdentity::become(const Rights& who, bool allow_root) {
  if (!can_switch()) return EffectiveIdentity(false);
  if (who.uid == 0 && !allow_root)
    return make_error(Errc::permission, cat("refusing to deliver as root for ", who.name));
  if (who.uid == 0) return EffectiveIdentity(false);  // already root
  const std::vector<gid_t>& groups = who.groups.empty() ? std::vector<gid_t>{who.gid} : who.groups;
  if (::setgroups(groups.size(), groups.data()) != 0) return sys_error("setgroups");
  EffectiveIdentity undo(true);  // from here on, the destructor restores root
  if (::setegid(who.gid) != 0) return sys_error(cat("setegid ", who.gid));
  if (::seteuid(who.uid) != 0) return sys_error(cat("seteuid ", who.uid));
  return undo;
}

EffectiveIdentity::~EffectiveIdentity() {
  if (!active_) return;
  // Root must come back before anything else can be restored; if it does
  // not, this process would go on with a recipient's identity: stop it.
  if (::seteuid(0) != 0) log::panic("cannot restore root after a delivery: ", std::strerror(errno));
  if (::setegid(0) != 0) log::panic("cannot restore gid 0 after a delivery");
  if (::setgroups(root_groups.size(), root_groups.data()) != 0)
    log::panic("cannot restore root's groups after a delivery");
}

}  // namespace posthorn::local

// lib/privs/privs.cc - see privs.h.
#include "lib/privs/privs.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "lib/base/strings.h"

namespace posthorn::privs {

namespace {

// getpw*_r/getgr*_r want a caller buffer; ERANGE means "bigger, please".
template <class Lookup>
int with_buffer(Lookup lookup) {
  std::vector<char> buf(1024);
  for (;;) {
    int rc = lookup(buf);
    if (rc != ERANGE || buf.size() > (1u << 20)) return rc;
    buf.resize(buf.size() * 4);
  }
}

}  // namespace

Result<Identity> lookup_user(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  Identity id;
  int rc = with_buffer([&](std::vector<char>& buf) {
    int r = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (r == 0 && found) id = Identity{found->pw_name, found->pw_uid, found->pw_gid};
    return r;
  });
  if (rc != 0) return sys_error(cat("look up user ", name), rc);
  if (!found) return make_error(Errc::not_found, cat("no such user: ", name));
  return id;
}

Result<gid_t> lookup_group(const std::string& name) {
  group gr{};
  group* found = nullptr;
  gid_t gid = 0;
  int rc = with_buffer([&](std::vector<char>& buf) {
    int r = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (r == 0 && found) gid = found->gr_gid;
    return r;
  });
  if (rc != 0) return sys_error(cat("look up group ", name), rc);
  if (!found) return make_error(Errc::not_found, cat("no such group: ", name));
  return gid;
}

bool is_root() { return ::getuid() == 0 || ::geteuid() == 0; }

Result<Identity> mail_owner_identity(const std::string& mail_owner) {
  auto id = lookup_user(mail_owner);
  if (!id) return make_error(id.error().code, cat("mail_owner: ", id.error().detail));
  if (id->uid == 0 || id->gid == 0)
    return make_error(Errc::permission,
                      cat("mail_owner ", mail_owner, " has uid or gid 0; it must not be root"));
  return id;
}

namespace {

Result<void> enter_jail(const std::filesystem::path& jail) {
  if (jail.empty()) return {};
  // chdir first, so that no directory outside the jail stays reachable
  // through the working directory after chroot.
  if (::chdir(jail.c_str()) != 0) return sys_error(cat("chdir ", jail.string()));
  if (::chroot(".") != 0) return sys_error(cat("chroot ", jail.string()));
  if (::chdir("/") != 0) return sys_error("chdir / inside the chroot");
  return {};
}

// After setresuid: nothing of the old identity is left.
Result<void> verify(const Identity& who) {
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (::getresuid(&r, &e, &s) != 0 || ::getresgid(&rg, &eg, &sg) != 0)
    return sys_error("getresuid");
  if (r != who.uid || e != who.uid || s != who.uid || rg != who.gid || eg != who.gid ||
      sg != who.gid)
    return make_error(Errc::io, "identity after the drop is not the requested one");
  if (::setuid(0) == 0 || ::seteuid(0) == 0)
    return make_error(Errc::io, "uid 0 could be regained after the drop");
  int n = ::getgroups(0, nullptr);
  std::vector<gid_t> groups(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n > 0 && ::getgroups(n, groups.data()) != n) return sys_error("getgroups");
  for (gid_t g : groups)
    if (g != who.gid) return make_error(Errc::io, "a supplementary group survived the drop");
  return {};
}

}  // namespace

Result<void> drop(const Identity& who, const std::filesystem::path& jail) {
  if (who.uid == 0 || who.gid == 0)
    return make_error(Errc::permission, cat("refusing to run as ", who.name, ": uid or gid 0"));
  if (::geteuid() != 0) return make_error(Errc::permission, "changing identity needs root");
  if (auto r = enter_jail(jail); !r) return r;
  if (::setgroups(0, nullptr) != 0) return sys_error("setgroups");
  if (::setresgid(who.gid, who.gid, who.gid) != 0) return sys_error("setresgid");
  if (::setresuid(who.uid, who.uid, who.uid) != 0) return sys_error("setresuid");
  return verify(who);
}

Result<void> drop_if_root(const Identity& who, const std::filesystem::path& jail) {
  if (!is_root()) return {};
  return drop(who, jail);
}

}  // namespace posthorn::privs

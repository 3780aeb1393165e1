// lib/maps/unix_table.cc - unix:passwd.byname and unix:group.byname, Postfix's
// tables over the system's account database (getpwnam_r/getgrnam_r, so NSS
// sources such as LDAP work too). local_recipient_maps names
// unix:passwd.byname by default, to know which local users exist.
//
// Values are the entries in /etc/passwd and /etc/group form, as Postfix
// returns them ("name:x:uid:gid:gecos:home:shell", "name:x:gid:a,b"). Keys
// are folded to lower case unless opened case-sensitive, as in Postfix.
//
// unix:shadow (Posthorn's own, for auth_password_maps) answers with the
// password field of the shadow entry alone (getspnam_r), a crypt(3) hash as
// lib/auth/password.h reads it; an account past its expiry date answers "!"
// (locked). Reading it needs root or the shadow group: for anyone else a
// lookup is an error (EACCES), never "not found".
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <vector>

#include "lib/base/strings.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps::detail {
namespace {

// getpwnam_r/getgrnam_r report "no such entry" as 0 with a null result (some
// NSS modules as ENOENT/ESRCH), a small buffer as ERANGE (retried with more
// room, up to 1 MiB); anything else is a lookup failure, not "not found".
// Result: whether the entry was found; `e` points into `buf`.
template <class Entry, auto Get>
Result<bool> nss_get(const std::string& spec, const std::string& key, Entry& e,
                     std::vector<char>& buf) {
  buf.resize(16384);
  Entry* found = nullptr;
  int rc;
  while ((rc = Get(key.c_str(), &e, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0 && rc != ENOENT && rc != ESRCH) return sys_error(cat(spec, ": ", key), rc);
  return found != nullptr;
}

enum class Source { passwd, group, shadow };

class UnixTable final : public Table {
 public:
  UnixTable(std::string spec, Source source, bool fold) : Table(std::move(spec)), source_(source) {
    fold_ = fold;
  }
  Result<std::optional<std::string>> lookup(std::string_view key) const override {
    auto k = prepare_key(key);
    if (!k) return std::move(k).error();
    switch (source_) {
      case Source::passwd: return by_name_passwd(*k);
      case Source::group: return by_name_group(*k);
      case Source::shadow: return by_name_shadow(*k);
    }
    return std::optional<std::string>();
  }

 private:
  Result<std::optional<std::string>> by_name_passwd(const std::string& key) const {
    std::vector<char> buf;
    struct passwd pw;
    auto found = nss_get<struct passwd, ::getpwnam_r>(spec(), key, pw, buf);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<std::string>();
    return std::optional<std::string>(cat(pw.pw_name, ":", pw.pw_passwd, ":", pw.pw_uid, ":",
                                          pw.pw_gid, ":", pw.pw_gecos, ":", pw.pw_dir, ":",
                                          pw.pw_shell));
  }
  Result<std::optional<std::string>> by_name_group(const std::string& key) const {
    std::vector<char> buf;
    struct group gr;
    auto found = nss_get<struct group, ::getgrnam_r>(spec(), key, gr, buf);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<std::string>();
    std::vector<std::string> members;
    for (char** m = gr.gr_mem; m && *m; ++m) members.emplace_back(*m);
    return std::optional<std::string>(
        cat(gr.gr_name, ":", gr.gr_passwd, ":", gr.gr_gid, ":", join(members, ",")));
  }
  Result<std::optional<std::string>> by_name_shadow(const std::string& key) const {
    std::vector<char> buf;
    struct spwd sp;
    auto found = nss_get<struct spwd, ::getspnam_r>(spec(), key, sp, buf);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<std::string>();
    // sp_expire counts days since the epoch; -1 (or 0 on some systems) is none.
    const long today = static_cast<long>(std::time(nullptr) / 86400);
    if (sp.sp_expire > 0 && sp.sp_expire <= today) return std::optional<std::string>("!");
    return std::optional<std::string>(sp.sp_pwdp ? sp.sp_pwdp : "!");
  }
  Source source_;
};

}  // namespace

Result<std::unique_ptr<Table>> open_unix(std::string spec, std::string_view name,
                                         const OpenOptions& opts) {
  Source source;
  if (name == "passwd.byname") source = Source::passwd;
  else if (name == "group.byname") source = Source::group;
  else if (name == "shadow") source = Source::shadow;
  else
    return make_error(Errc::invalid, cat("table \"", printable(spec),
                                         "\": unix: knows passwd.byname, group.byname and shadow"));
  return std::unique_ptr<Table>(std::make_unique<UnixTable>(std::move(spec), source,
                                                            !opts.case_sensitive));
}

}  // namespace posthorn::maps::detail

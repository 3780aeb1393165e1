// tools/postdrop/config_trust.h - which configuration directory the
// set-group-ID postdrop may read.
//
// A configuration decides where postdrop writes and whom it wakes. postdrop
// runs with the maildrop group, so a configuration written by an ordinary
// user must not steer it (Postfix's rule for its set-gid programs). The
// directory a user names with -c or MAIL_CONFIG is accepted when one of
// these holds:
//   1. postdrop runs without extra privilege (its effective group is its
//      real group: instance mode, or a copy without the set-gid bit);
//   2. the real user is root;
//   3. it is the default directory (/etc/posthorn);
//   4. it is listed in alternate_config_directories of the default
//      directory's main.cf (Postfix's parameter);
//   5. only root can have written it: the directory, every directory above
//      it and its main.cf belong to root and are writable by nobody else (a
//      directory writable by others counts only with the sticky bit, as
//      /tmp, where no one else may rename root's entries). Symbolic links are
//      resolved first, so the check is on the real path.
// Anything else is Errc::permission, with a detail that says which parameter
// would allow it. The result is the directory to load: `dir` itself under
// rules 1-3, else its canonical path, the one that was checked, so that a
// symbolic link changed after the check cannot redirect the load.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "lib/base/result.h"

namespace posthorn::postdrop {

struct Caller {
  bool privileged = false;  // effective gid differs from the real one
  uid_t real_uid = 0;
};

Result<std::filesystem::path> trusted_config_dir(const std::filesystem::path& dir,
                                                 const std::filesystem::path& default_dir,
                                                 const Caller& caller);

// Rule 5 on its own: Errc::permission naming the first path that fails.
Result<void> root_only_path(const std::filesystem::path& dir);

}  // namespace posthorn::postdrop
